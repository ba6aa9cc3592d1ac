package alexnet_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/backend/backendtest"
	"github.com/dnngo/dnngo/safetensors"
	"github.com/stretchr/testify/require"
)

// resumeConfig exercises every piece of training state: dropout masks
// (seed and step), the paper's rule (whose velocity carries the learning
// rate), a learning rate set by hand and one cut by the schedule.
func resumeConfig() alexnet.Config {
	c := alexnet.Mini()
	c.Dropout = 0.5
	c.SGD.Rule = backend.PaperSGD
	c.Schedule = alexnet.Plateau{Factor: 0.5, Patience: 1, MaxDrops: 3}
	c.Seed = 42
	return c
}

// trainPhase runs steps [from, to) of a fixed recipe and returns the losses.
func trainPhase(t *testing.T, net *alexnet.Network, from, to int) []float32 {
	t.Helper()
	x, labels := batchOf(21, 3, net.InputSize(), net.Config().Classes)
	var losses []float32
	for step := from; step < to; step++ {
		switch step {
		case 2:
			require.NoError(t, net.Optimizer().SetLR(0.02))
		case 4, 5:
			_, err := net.Optimizer().Observe(1) // the first sets the best, the second cuts the rate
			require.NoError(t, err)
		}
		loss, err := net.TrainStep(x, labels)
		require.NoError(t, err)
		losses = append(losses, loss)
	}
	return losses
}

// state returns every parameter and momentum buffer of net.
func state(t *testing.T, net *alexnet.Network) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, p := range net.ParamNames() {
		out[p] = param(t, net, p, net.Param)
		out["momentum."+p] = param(t, net, p, net.Optimizer().Momentum)
	}
	return out
}

// TestCheckpointResumeIsExact trains 8 steps straight, and 4 steps, save,
// load on a fresh backend, 4 more: losses, parameters, momentum buffers,
// learning rate and schedule must be bit-identical, with the cpu backend
// on 1 and on 3 worker threads.
func TestCheckpointResumeIsExact(t *testing.T) {
	for _, threads := range []int{1, 3} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) { checkResume(t, threads) })
	}
}

func checkResume(t *testing.T, threads int) {
	cfg := resumeConfig()
	straight, err := alexnet.New(openCPU(t, threads), cfg)
	require.NoError(t, err)
	defer straight.Close()
	want := trainPhase(t, straight, 0, 8)

	first, err := alexnet.New(openCPU(t, threads), cfg)
	require.NoError(t, err)
	got := trainPhase(t, first, 0, 4)
	path := filepath.Join(t.TempDir(), "mini.safetensors")
	require.NoError(t, first.Save(path))
	require.NoError(t, first.Close())

	resumed, err := alexnet.Load(openCPU(t, threads), path)
	require.NoError(t, err)
	defer resumed.Close()
	require.Equal(t, cfg, resumed.Config())
	require.Equal(t, uint64(4), resumed.Steps())
	got = append(got, trainPhase(t, resumed, 4, 8)...)

	require.Equal(t, want, got, "losses of the 8 steps")
	require.Equal(t, straight.Steps(), resumed.Steps())
	require.Equal(t, straight.Optimizer().LR(), resumed.Optimizer().LR())
	require.Equal(t, 1, resumed.Optimizer().Drops())
	require.Equal(t, straight.Optimizer().Drops(), resumed.Optimizer().Drops())
	ws, wr := state(t, straight), state(t, resumed)
	for name, v := range ws {
		require.Equal(t, v, wr[name], "%s after 8 steps", name)
	}
}

// TestCheckpointAcrossBackends saves on every backend compiled in and
// loads on every other: parameters and momentum cross exactly (Upload and
// Download are lossless), and the loaded network computes the same logits.
func TestCheckpointAcrossBackends(t *testing.T) {
	forEachBackend(t, func(t *testing.T, src backend.Backend) {
		cfg := resumeConfig()
		net, err := alexnet.New(src, cfg)
		require.NoError(t, err)
		defer net.Close()
		trainPhase(t, net, 0, 2)
		var buf bytes.Buffer
		require.NoError(t, net.WriteCheckpoint(&buf))
		x, _ := batchOf(22, 2, net.InputSize(), cfg.Classes)
		require.NoError(t, net.Forward(x, alexnet.Eval))
		logits, err := net.Logits()
		require.NoError(t, err)
		saved := state(t, net)

		forEachBackend(t, func(t *testing.T, dst backend.Backend) {
			loaded, err := alexnet.ReadCheckpoint(dst, buf.Bytes())
			require.NoError(t, err)
			defer loaded.Close()
			require.Equal(t, saved, state(t, loaded))
			require.NoError(t, loaded.Forward(x, alexnet.Eval))
			got, err := loaded.Logits()
			require.NoError(t, err)
			backendtest.Near(t, "logits", got, logits, 1e-5)
		})
	})
}

// tinyConfig is a small valid network for the checkpoint error tests and
// the fuzzer: 67×67 input, width 4 everywhere, 3 classes.
func tinyConfig() alexnet.Config {
	c := alexnet.Mini()
	c.Name = "tiny"
	c.Input, c.Classes = 67, 3
	for i := range c.Conv {
		c.Conv[i].Out = 4
	}
	c.Hidden = [2]int{8, 8}
	return c
}

func tinyCheckpoint(t testing.TB) []byte {
	b := openCPU(t, 1)
	net, err := alexnet.New(b, tinyConfig())
	require.NoError(t, err)
	defer net.Close()
	var buf bytes.Buffer
	require.NoError(t, net.WriteCheckpoint(&buf))
	return buf.Bytes()
}

// rewrite re-encodes a checkpoint after edit changes its metadata or
// tensors.
func rewrite(t *testing.T, data []byte, edit func(meta map[string]string, ts []safetensors.Tensor) []safetensors.Tensor) []byte {
	t.Helper()
	f, err := safetensors.Parse(data)
	require.NoError(t, err)
	var ts []safetensors.Tensor
	for _, info := range f.Tensors() {
		raw, _, err := f.Raw(info.Name)
		require.NoError(t, err)
		ts = append(ts, safetensors.Tensor{Name: info.Name, DType: info.DType, Shape: info.Shape, Data: bytes.Clone(raw)})
	}
	meta := map[string]string{}
	for k, v := range f.Metadata {
		meta[k] = v
	}
	ts = edit(meta, ts)
	return encodeSealed(t, meta, ts)
}

// encodeSealed encodes a checkpoint with a header checksum that matches
// its (edited) header, so that the checks behind it are reached.
func encodeSealed(t *testing.T, meta map[string]string, ts []safetensors.Tensor) []byte {
	t.Helper()
	if _, ok := meta["header_crc32c"]; ok {
		var infos []safetensors.TensorInfo
		var off int64
		for _, x := range ts {
			infos = append(infos, safetensors.TensorInfo{Name: x.Name, DType: x.DType, Shape: x.Shape, Begin: off, End: off + int64(len(x.Data))})
			off += int64(len(x.Data))
		}
		meta["header_crc32c"] = alexnet.HeaderChecksum(meta, infos)
	}
	var buf bytes.Buffer
	require.NoError(t, safetensors.Encode(&buf, meta, ts))
	return buf.Bytes()
}

func TestCheckpointErrors(t *testing.T) {
	good := tinyCheckpoint(t)
	b := openCPU(t, 1)
	net, err := alexnet.ReadCheckpoint(b, good)
	require.NoError(t, err, "the unmodified checkpoint loads")
	require.NoError(t, net.Close())

	setMeta := func(k, v string) func(map[string]string, []safetensors.Tensor) []safetensors.Tensor {
		return func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor { m[k] = v; return ts }
	}
	withConfig := func(change func(c *alexnet.Config)) func(map[string]string, []safetensors.Tensor) []safetensors.Tensor {
		return func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
			c := tinyConfig()
			change(&c)
			js, err := json.Marshal(c)
			require.NoError(t, err)
			m["config"] = string(js)
			return ts
		}
	}
	tensor := func(name string, change func(*safetensors.Tensor)) func(map[string]string, []safetensors.Tensor) []safetensors.Tensor {
		return func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == name {
					change(&ts[i])
				}
			}
			return ts
		}
	}
	cases := []struct {
		name string
		edit func(map[string]string, []safetensors.Tensor) []safetensors.Tensor
		want string
	}{
		{"wrong format", setMeta("format", "dnngo-alexnet/9"), `format "dnngo-alexnet/9"`},
		{"config not JSON", setMeta("config", "{"), "metadata config"},
		{"config with an unknown field", setMeta("config", `{"name":"x","colour":"red"}`), "unknown field"},
		{"config that does not validate", withConfig(func(c *alexnet.Config) { c.Conv[2].Out = 0 }), "conv3: 0 filters"},
		{"config wider than the tensors", withConfig(func(c *alexnet.Config) { c.Hidden[0] = 16 }), "tensor fc6.weight has shape [8 4], config \"tiny\" wants [16 4]"},
		{"step not a number", setMeta("step", "-1"), "metadata step"},
		{"lr NaN", setMeta("lr", "NaN"), "metadata lr"},
		{"schedule garbage", setMeta("schedule", "[]"), "metadata schedule"},
		{"missing checksums", func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
			delete(m, "crc32c")
			return ts
		}, `"crc32c" is missing`},
		{"missing tensor", func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
			return ts[:len(ts)-1]
		}, "tensor momentum.fc8.bias is missing"},
		{"extra tensor", func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.Float32Tensor("conv6.weight", []int{1}, []float32{1}))
		}, `unexpected tensor "conv6.weight"`},
		{"wrong shape", tensor("conv3.weight", func(ts *safetensors.Tensor) { ts.Shape = []int{4, 4, 9} }), "tensor conv3.weight has shape [4 4 9], config \"tiny\" wants [4 4 3 3]"},
		{"wrong dtype", tensor("fc7.bias", func(ts *safetensors.Tensor) {
			ts.DType, ts.Shape = safetensors.I64, []int{4}
		}), "tensor fc7.bias has dtype I64, want F32"},
		{"flipped bit in the data", tensor("conv2.weight", func(ts *safetensors.Tensor) { ts.Data[17] ^= 4 }), "tensor conv2.weight is corrupt"},
		{"NaN weight with a matching checksum", func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "fc8.weight" {
					binary.LittleEndian.PutUint32(ts[i].Data[8:], math.Float32bits(float32(math.NaN())))
					var sums map[string]string
					require.NoError(t, json.Unmarshal([]byte(m["crc32c"]), &sums))
					sums["fc8.weight"] = crcHex(ts[i].Data)
					js, _ := json.Marshal(sums)
					m["crc32c"] = string(js)
				}
			}
			return ts
		}, "tensor fc8.weight holds a non-finite value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alexnet.ReadCheckpoint(b, rewrite(t, good, tc.edit))
			require.Error(t, err)
			t.Log(err)
			require.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("no metadata", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, safetensors.Encode(&buf, nil, []safetensors.Tensor{safetensors.Float32Tensor("x", []int{1}, []float32{1})}))
		_, err := alexnet.ReadCheckpoint(b, buf.Bytes())
		require.ErrorContains(t, err, "not a dnngo AlexNet checkpoint")
	})
	t.Run("every truncation", func(t *testing.T) {
		for n := 0; n < len(good); n += 1 + n/16 {
			_, err := alexnet.ReadCheckpoint(b, good[:n])
			require.Error(t, err, "%d of %d bytes", n, len(good))
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := alexnet.Load(b, filepath.Join(t.TempDir(), "nope.safetensors"))
		require.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("truncated file names the file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cut.safetensors")
		require.NoError(t, os.WriteFile(path, good[:len(good)/2], 0o644))
		_, err := alexnet.Load(b, path)
		require.ErrorContains(t, err, "cut.safetensors")
		t.Log(err)
	})
}

// TestSaveIsAtomic: a failed save leaves the old checkpoint in place and
// no temporary files behind.
func TestSaveIsAtomic(t *testing.T) {
	b := openCPU(t, 1)
	net, err := alexnet.New(b, tinyConfig())
	require.NoError(t, err)
	defer net.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	require.NoError(t, net.Save(path))
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Error(t, net.Save(filepath.Join(dir, "no-such-dir", "ckpt.safetensors")))
	require.NoError(t, net.Save(path))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, before, after, "the same state saves to the same bytes")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left: %v", entries)
}

// FuzzReadCheckpoint: whatever the bytes, reading a checkpoint returns a
// network or an error, never a panic.
func FuzzReadCheckpoint(f *testing.F) {
	good := tinyCheckpoint(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:64])
	hdr := binary.LittleEndian.Uint64(good)
	f.Add(good[:8+hdr]) // the header alone
	f.Fuzz(func(t *testing.T, data []byte) {
		b := openCPU(t, 1)
		net, err := alexnet.ReadCheckpoint(b, data)
		if err != nil {
			return
		}
		require.NoError(t, net.Close())
	})
}

func crcHex(b []byte) string {
	return fmt.Sprintf("%08x", crc32c(b))
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

func TestCheckpointKeepsNotes(t *testing.T) {
	b := openCPU(t, 1)
	net, err := alexnet.New(b, alexnet.Mini())
	require.NoError(t, err)
	defer net.Close()
	require.NoError(t, net.SetNote("labels", `["a","b"]`))
	require.Error(t, net.SetNote("bad key", "x"))
	require.Error(t, net.SetNote("", "x"))
	path := filepath.Join(t.TempDir(), "n.safetensors")
	require.NoError(t, net.Save(path))
	back, err := alexnet.Load(b, path)
	require.NoError(t, err)
	defer back.Close()
	require.Equal(t, `["a","b"]`, back.Note("labels"))
	require.Equal(t, "", back.Note("missing"))
}

// TestCheckpointHeaderEditsAreRejected: every one-byte edit of a saved
// checkpoint's header (the learning rate, the LRN size, the step, a pool
// kernel, a note, the tensor table, …) either makes the file unparsable or
// fails the header checksum; none loads with changed state.
func TestCheckpointHeaderEditsAreRejected(t *testing.T) {
	b := openCPU(t, 1)
	net, err := alexnet.New(b, tinyConfig())
	require.NoError(t, err)
	require.NoError(t, net.SetNote("preprocess", `{"resize":76,"crop":67}`))
	var buf bytes.Buffer
	require.NoError(t, net.WriteCheckpoint(&buf))
	require.NoError(t, net.Close())
	good := buf.Bytes()
	orig, err := safetensors.Parse(good)
	require.NoError(t, err)
	hlen := int(binary.LittleEndian.Uint64(good))
	var tried, loaded, checksum int
	edited := bytes.Clone(good)
	for i := 0; i < 8+hlen; i++ {
		c := good[i]
		for _, v := range []byte{c ^ 1, c + 2, '1', '"'} { // digits move, letters change, strings end
			if v == c {
				continue
			}
			edited[i] = v
			tried++
			n, err := alexnet.ReadCheckpoint(b, edited)
			if err == nil {
				// Allowed only when what a loader reads is unchanged.
				loaded++
				f, perr := safetensors.Parse(edited)
				require.NoError(t, perr)
				require.Equal(t, orig.Metadata, f.Metadata, "byte %d: %q → %q loaded with changed metadata", i, c, v)
				require.Equal(t, orig.Tensors(), f.Tensors(), "byte %d: %q → %q loaded with a changed tensor table", i, c, v)
				require.NoError(t, n.Close())
			} else if strings.Contains(err.Error(), "the file was changed after it was written") {
				checksum++
			}
		}
		edited[i] = c
	}
	t.Logf("%d one-byte edits of a %d-byte header: %d rejected by the header checksum, %d loaded unchanged state, the rest unparsable",
		tried, hlen, checksum, loaded)
	require.Greater(t, checksum, 100, "the checksum is what catches the edits that parse")
}

func TestCheckpointOldFormatIsRefusedClearly(t *testing.T) {
	good := tinyCheckpoint(t)
	b := openCPU(t, 1)
	old := rewrite(t, good, func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
		m["format"] = "dnngo-alexnet/1"
		delete(m, "header_crc32c")
		return ts
	})
	_, err := alexnet.ReadCheckpoint(b, old)
	require.ErrorContains(t, err, `checkpoint format "dnngo-alexnet/1" was written by an older dnngo`)
	noSum := rewrite(t, good, func(m map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
		delete(m, "header_crc32c")
		return ts
	})
	_, err = alexnet.ReadCheckpoint(b, noSum)
	require.ErrorContains(t, err, `"header_crc32c" is missing`)
}

// TestSaveRefusesNonFiniteParameters: a NaN or an infinity in a parameter
// never reaches a checkpoint; the file on disk stays as it was.
func TestSaveRefusesNonFiniteParameters(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			b := openCPU(t, 1)
			net, err := alexnet.New(b, tinyConfig())
			require.NoError(t, err)
			defer net.Close()
			path := filepath.Join(t.TempDir(), "ck.safetensors")
			require.NoError(t, net.Save(path))
			require.NoError(t, net.CheckFinite())
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			w, err := net.Param("conv3.weight")
			require.NoError(t, err)
			w[5] = bad
			require.NoError(t, net.SetParam("conv3.weight", w))
			err = net.Save(path)
			require.ErrorIs(t, err, alexnet.ErrNonFinite)
			require.ErrorContains(t, err, "conv3.weight holds "+fmt.Sprint(bad)+" at index 5")
			require.ErrorIs(t, net.WriteCheckpoint(io.Discard), alexnet.ErrNonFinite)
			require.ErrorIs(t, net.CheckFinite(), alexnet.ErrNonFinite)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, before, after, "the good checkpoint is intact")
		})
	}
}

// TestLoadRefusesWhatIsNotARegularFile: /dev/zero (once read forever
// until the process died of OOM) and a directory are errors at once.
func TestLoadRefusesWhatIsNotARegularFile(t *testing.T) {
	b := openCPU(t, 1)
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "is a device, not a regular file"},
		{t.TempDir(), "is a directory"},
	} {
		if _, err := os.Stat(c.path); err != nil {
			t.Logf("skip %s: %v", c.path, err)
			continue
		}
		_, err := alexnet.Load(b, c.path)
		require.ErrorContains(t, err, c.want)
	}
}
