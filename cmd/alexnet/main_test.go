package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"fly"}, `unknown command "fly"`},
		{"bad flag", []string{"bench", "--bogus"}, "flag provided but not defined"},
		{"batch 0", []string{"bench", "--batch", "0"}, "want batch sizes ≥ 1"},
		{"batch not a number", []string{"bench", "--batch", "x"}, "want batch sizes ≥ 1"},
		{"nothing to measure", []string{"bench", "--batch", "", "--train", ""}, "nothing to measure"},
		{"unknown backend", []string{"bench", "--backends", "tpu"}, `no backend named "tpu"`},
		{"backend not compiled in", []string{"bench", "--backends", "nosuch"}, "nosuch"},
		{"negative duration", []string{"bench", "--duration", "-1s"}, "want > 0"},
		{"bad precision", []string{"bench", "--precision", "fp8"}, `unknown precision "fp8"`},
		{"bad variant", []string{"summary", "--variant", "vgg"}, "want seed, paper or mini"},
		{"too many bench threads", []string{"bench", "--threads", "100000"}, "--threads 100000: want 0 (the default) to"},
		{"too many train threads", []string{"train", "--threads", "100000"}, "--threads 100000: want 0 (the default) to"},
		{"stray argument", []string{"devices", "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(strings.TrimRight(stderr, "\n"), "\n")+1, "one line: %q", stderr)
			assert.NotContains(t, stderr, "goroutine", "no stack trace")
		})
	}
}

func TestNoArgumentsIsAUsageError(t *testing.T) {
	code, out, stderr := runCLI()
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, "Usage:")
	assert.Contains(t, stderr, "alexnet train")
}

func TestHelp(t *testing.T) {
	code, out, _ := runCLI("help")
	assert.Zero(t, code)
	for _, c := range []string{"summary", "devices", "bench"} {
		assert.Contains(t, out, "alexnet "+c)
		code, out, _ := runCLI(c, "--help")
		assert.Zero(t, code, c)
		assert.Contains(t, out, "Usage: alexnet "+c, c)
		assert.Equal(t, 1, strings.Count(out, "Usage:"), "%s --help prints its usage once", c)
	}
}

func TestSummary(t *testing.T) {
	code, out, _ := runCLI("summary")
	require.Zero(t, code)
	assert.Contains(t, out, "62,367,776 weights")
	assert.Contains(t, out, "62,378,344 with biases")
	code, out, _ = runCLI("summary", "--variant", "mini")
	require.Zero(t, code)
	assert.Contains(t, out, "99×99")
}

func TestDevices(t *testing.T) {
	code, out, _ := runCLI("devices")
	require.Zero(t, code)
	assert.Contains(t, out, "CPU ")
	assert.Contains(t, out, "cpu     opens")
}

func TestBenchWritesTableJSONAndPlot(t *testing.T) {
	dir := t.TempDir()
	js, png := filepath.Join(dir, "b.json"), filepath.Join(dir, "b.png")
	code, out, stderr := runCLI("bench", "--variant", "mini", "--backends", "cpu", "--batch", "2", "--train", "2",
		"--duration", "50ms", "--json", js, "--plot", png)
	require.Zero(t, code, stderr)
	assert.Contains(t, out, "images/s")
	assert.Contains(t, stderr, "cpu forward batch 2:", "progress")
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	var rep struct {
		Results []struct {
			Backend    string  `json:"backend"`
			ImagesPerS float64 `json:"images_per_s"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Results, 2)
	assert.Greater(t, rep.Results[0].ImagesPerS, 0.0)
	st, err := os.Stat(png)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}
