package safetensors

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads the JSON header token by token straight from its bytes,
// with the few calls the parser needs (those of a json.Decoder: delimiters,
// More, strings, integers). It allocates only the strings it returns, each
// once at its final size, so parsing a header costs memory within a small
// multiple of its size — json.Decoder's Token allocates tens of bytes per
// token, which let a 100 MB header cost gigabytes. The JSON it accepts is
// standard JSON (RFC 8259) restricted to what a header holds, with
// strings required to be valid UTF-8.
type scanner struct {
	b     []byte
	i     int
	stack []level
}

// level is an open object or array.
type level struct {
	obj       bool // an object: keys and values alternate
	wantValue bool // in an object: a key was read, its value comes next
	needComma bool // an element was read: a comma comes before the next
}

var errEnd = errors.New("unexpected end of JSON input")

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// what describes the next token for an error message.
func (s *scanner) what() string {
	if s.i >= len(s.b) {
		return "the end of the header"
	}
	return fmt.Sprintf("%q at byte %d", s.b[s.i], s.i)
}

// beforeValue consumes the comma before an element after the first and
// reports whether the value to read is an object key.
func (s *scanner) beforeValue() (key bool, err error) {
	if len(s.stack) == 0 {
		return false, nil
	}
	top := &s.stack[len(s.stack)-1]
	if top.needComma {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return false, fmt.Errorf("got %s, want a comma", s.what())
		}
		s.i++
		top.needComma = false
	}
	return top.obj && !top.wantValue, nil
}

// afterValue records that a value (or, when key, an object key and its
// colon) was read.
func (s *scanner) afterValue(key bool) error {
	if len(s.stack) == 0 {
		return nil
	}
	top := &s.stack[len(s.stack)-1]
	if key {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return fmt.Errorf("got %s, want a colon", s.what())
		}
		s.i++
		top.wantValue = true
		return nil
	}
	top.wantValue, top.needComma = false, true
	return nil
}

// delim reads one of { } [ ].
func (s *scanner) delim(want byte) error {
	open := want == '{' || want == '['
	if open {
		key, err := s.beforeValue()
		if err != nil {
			return err
		}
		if key {
			return fmt.Errorf("got %s, want a string", s.what())
		}
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != want {
		return fmt.Errorf("got %s, want %c", s.what(), want)
	}
	s.i++
	if open {
		s.stack = append(s.stack, level{obj: want == '{'})
		return nil
	}
	if len(s.stack) == 0 || s.stack[len(s.stack)-1].obj != (want == '}') {
		return fmt.Errorf("unbalanced %c", want)
	}
	s.stack = s.stack[:len(s.stack)-1]
	return s.afterValue(false)
}

// More reports whether the current object or array has another element.
func (s *scanner) More() bool {
	s.ws()
	return s.i < len(s.b) && s.b[s.i] != '}' && s.b[s.i] != ']'
}

// str reads a string: a key or a value.
func (s *scanner) str() (string, error) {
	key, err := s.beforeValue()
	if err != nil {
		return "", err
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", fmt.Errorf("got %s, want a string", s.what())
	}
	v, err := s.stringBody()
	if err != nil {
		return "", err
	}
	return v, s.afterValue(key)
}

// stringBody reads a string from its opening quote.
func (s *scanner) stringBody() (string, error) {
	start := s.i + 1
	// Find the closing quote: the string's raw length bounds its decoded one.
	end, escaped := start, false
	for ; end < len(s.b) && s.b[end] != '"'; end++ {
		if s.b[end] == '\\' {
			escaped = true
			end++
		}
	}
	if end >= len(s.b) {
		return "", errEnd
	}
	raw := s.b[start:end]
	s.i = end + 1
	if !escaped {
		for j, c := range raw {
			if c < 0x20 {
				return "", fmt.Errorf("control character %#02x in a string at byte %d", c, start+j)
			}
		}
		if !utf8.Valid(raw) {
			return "", fmt.Errorf("string at byte %d is not valid UTF-8", start)
		}
		return string(raw), nil
	}
	var out strings.Builder
	out.Grow(len(raw))
	for j := 0; j < len(raw); {
		c := raw[j]
		switch {
		case c < 0x20:
			return "", fmt.Errorf("control character %#02x in a string at byte %d", c, start+j)
		case c != '\\':
			out.WriteByte(c)
			j++
			continue
		}
		e := raw[j+1] // the scan above kept the escaped byte inside raw
		j += 2
		switch e {
		case '"', '\\', '/':
			out.WriteByte(e)
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'u':
			r, ok := hex4(raw[j:])
			if !ok {
				return "", fmt.Errorf("bad \\u escape in a string at byte %d", start+j-2)
			}
			j += 4
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone half is U+FFFD, as
				// encoding/json reads it.
				r2, ok := rune(0), false
				if j+6 <= len(raw) && raw[j] == '\\' && raw[j+1] == 'u' {
					r2, ok = hex4(raw[j+2:])
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					j += 6
				} else {
					r = utf8.RuneError
				}
			}
			out.WriteRune(r)
		default:
			return "", fmt.Errorf("invalid escape \\%c in a string at byte %d", e, start+j-2)
		}
	}
	if !utf8.ValidString(out.String()) {
		return "", fmt.Errorf("string at byte %d is not valid UTF-8", start)
	}
	return out.String(), nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// uint reads a JSON number that must be an integer in [0, max].
func (s *scanner) uint(max uint64) (uint64, error) {
	key, err := s.beforeValue()
	if err != nil {
		return 0, err
	}
	if key {
		return 0, fmt.Errorf("got %s, want a string", s.what())
	}
	s.ws()
	start := s.i
	// The JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	intStart := s.i
	if digits() == 0 || (s.b[intStart] == '0' && s.i-intStart > 1) {
		s.i = start
		return 0, fmt.Errorf("got %s, want an integer", s.what())
	}
	intEnd := s.i
	frac := false
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return 0, fmt.Errorf("malformed number at byte %d", start)
		}
		frac = true
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return 0, fmt.Errorf("malformed number at byte %d", start)
		}
		frac = true
	}
	num := s.b[start:s.i]
	if neg || frac {
		return 0, fmt.Errorf("%s is not an integer in [0, %d]", num, max)
	}
	var v uint64
	for _, c := range s.b[intStart:intEnd] {
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, fmt.Errorf("%s is not an integer in [0, %d]", num, max)
		}
		v = v*10 + d
	}
	return v, s.afterValue(false)
}
