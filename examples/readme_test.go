// Package examples_test checks that the Go code the README shows is code
// that compiles and runs: every ```go block of README.md must be, line for
// line (indentation aside), a piece of a Go file of this repository — an
// Example function that go test runs, or one of the programs here.
package examples_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goBlocks returns the ```go blocks of a Markdown text, each as its lines.
func goBlocks(md string) [][]string {
	var blocks [][]string
	var cur []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.TrimSpace(line) == "```go":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, cur)
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

func trimmed(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// containsRun reports whether want occurs as consecutive lines of have.
func containsRun(have, want []string) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		ok := true
		for j := range want {
			if have[i+j] != want[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestREADMEGoBlocksAreRepositoryCode(t *testing.T) {
	md, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	blocks := goBlocks(string(md))
	require.NotEmpty(t, blocks)
	sources := map[string][]string{}
	require.NoError(t, filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources[path] = trimmed(strings.Split(string(b), "\n"))
		}
		return nil
	}))
	for i, b := range blocks {
		want := trimmed(b)
		found := ""
		for path, have := range sources {
			if containsRun(have, want) {
				found = path
				break
			}
		}
		assert.NotEmpty(t, found, "README ```go block %d (starting %q) is not a piece of any Go file of the repository", i+1, b[0])
	}
}

func TestGoBlocks(t *testing.T) {
	md := "text\n```go\na := 1\n\tb := 2\n```\n```sh\nls\n```\n```go\nc\n```\n"
	assert.Equal(t, [][]string{{"a := 1", "\tb := 2"}, {"c"}}, goBlocks(md))
	assert.True(t, containsRun([]string{"x", "a := 1", "b := 2", "y"}, []string{"a := 1", "b := 2"}))
	assert.False(t, containsRun([]string{"a := 1", "x", "b := 2"}, []string{"a := 1", "b := 2"}))
}
