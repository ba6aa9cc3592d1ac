// Package registry holds the table of registered backends, shared by the
// user API (backend.Open looks names up) and the driver API
// (driver.Register adds them), so that neither package imports the other's
// internals.
package registry

import "sync"

var (
	mu    sync.RWMutex
	opens = map[string]any{}
	order []string
)

// Add records open under name. It panics if name is empty, open is nil or
// the name is taken: programming errors of a driver's init function, as in
// database/sql.Register.
func Add(name string, open any) {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || open == nil {
		panic("backend: Register with an empty name or a nil open function")
	}
	if _, dup := opens[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	opens[name] = open
	order = append(order, name)
}

// Lookup returns what Add recorded under name.
func Lookup(name string) (any, bool) {
	mu.RLock()
	defer mu.RUnlock()
	open, ok := opens[name]
	return open, ok
}

// Names lists the registered names in registration order.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return append([]string(nil), order...)
}
