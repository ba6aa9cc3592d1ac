package alexnet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dnngo/dnngo/backend"
	"github.com/dnngo/dnngo/safetensors"
)

// CheckpointFormat is the __metadata__ "format" of the checkpoints this
// package writes and reads.
// Version 2 added the header checksum (metadata "header_crc32c"); version
// 1 files are refused with an error saying so.
const CheckpointFormat = "dnngo-alexnet/2"

// oldCheckpointFormat is the format before the header checksum.
const oldCheckpointFormat = "dnngo-alexnet/1"

// momentumPrefix prefixes the tensor names of the momentum buffers.
const momentumPrefix = "momentum."

// Metadata keys of a checkpoint.
const (
	metaFormat   = "format"
	metaConfig   = "config"   // the Config as JSON
	metaStep     = "step"     // completed optimiser steps, decimal
	metaLR       = "lr"       // current learning rate, shortest float32 decimal
	metaSchedule = "schedule" // the plateau schedule's state as JSON
	metaBackend  = "backend"  // the backend that wrote it (information only)
	metaCRC      = "crc32c"   // JSON object: tensor name → CRC-32C of its bytes, 8 hex digits
	// metaHeaderCRC is the CRC-32C (8 hex digits) of everything else in
	// the header: every other metadata key and value (so the config, the
	// training state, the notes and the tensor checksums) and every
	// tensor's name, dtype, shape and byte range; see headerChecksum.
	metaHeaderCRC = "header_crc32c"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Save writes a checkpoint to path atomically (a temporary file in the
// same directory, synced, then renamed over path): every parameter as F32
// under its name (conv1.weight, conv1.bias, …, fc8.bias: OIHW conv
// weights, [out, in] FC weights), every momentum buffer under
// "momentum.<name>", and in the metadata the Config (JSON), the step count,
// the current learning rate, the schedule's state, the notes, a CRC-32C of
// every tensor and a CRC-32C of the whole header, which Load checks before
// believing anything in it. A network with a non-finite parameter or
// momentum value is not saved (the error wraps ErrNonFinite) and path is
// left as it was. Those are the whole training state: dropout masks are a
// function of the seed and the step, so a network loaded from the
// checkpoint continues exactly as this one would.
func (n *Network) Save(path string) error {
	meta, tensors, err := n.checkpoint()
	if err != nil {
		return err
	}
	if err := safetensors.WriteFile(path, meta, tensors); err != nil {
		return fmt.Errorf("alexnet: save %s: %w", path, err)
	}
	return nil
}

// ErrNonFinite is wrapped by the errors of Save, WriteCheckpoint and
// CheckFinite when a parameter or momentum buffer holds a NaN or an
// infinity: a diverged network is never written over a good checkpoint.
var ErrNonFinite = errors.New("non-finite value")

// CheckFinite returns an error wrapping ErrNonFinite, naming the parameter,
// the value and its index, when a parameter holds a NaN or an infinity. It
// downloads every parameter once (the cost of a Save without the write), so
// it is meant for occasional checks — before a checkpoint or a validation —
// not every step. Some backends' fused ops (oneDNN's ReLU and max-pool)
// turn NaN into finite values, so a finite loss does not prove finite
// weights.
func (n *Network) CheckFinite() error {
	if n.closed {
		return fmt.Errorf("alexnet: check finite: the network is closed: %w", ErrClosed)
	}
	for _, p := range n.params {
		w, err := n.download("check finite "+p.name, p.w)
		if err != nil {
			return err
		}
		if err := n.finite("check finite", p.name, w); err != nil {
			return err
		}
	}
	return nil
}

// finite reports the first non-finite value of the tensor called name.
func (n *Network) finite(op, name string, v []float32) error {
	if i := slices.IndexFunc(v, notFinite); i >= 0 {
		return fmt.Errorf("alexnet: %s: %s holds %v at index %d after step %d: %w", op, name, v[i], i, n.step, ErrNonFinite)
	}
	return nil
}

// WriteCheckpoint writes the checkpoint that Save would write to w.
func (n *Network) WriteCheckpoint(w io.Writer) error {
	meta, tensors, err := n.checkpoint()
	if err != nil {
		return err
	}
	if err := safetensors.Encode(w, meta, tensors); err != nil {
		return fmt.Errorf("alexnet: write checkpoint: %w", err)
	}
	return nil
}

func (n *Network) checkpoint() (map[string]string, []safetensors.Tensor, error) {
	if n.closed {
		return nil, nil, fmt.Errorf("alexnet: save: the network is closed: %w", ErrClosed)
	}
	cfg, err := json.Marshal(n.cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("alexnet: save: config: %w", err)
	}
	sched, err := json.Marshal(n.opt.sched)
	if err != nil {
		return nil, nil, fmt.Errorf("alexnet: save: schedule: %w", err)
	}
	meta := map[string]string{
		metaFormat:   CheckpointFormat,
		metaConfig:   string(cfg),
		metaStep:     strconv.FormatUint(n.step, 10),
		metaLR:       strconv.FormatFloat(float64(n.opt.lr), 'g', -1, 32),
		metaSchedule: string(sched),
		metaBackend:  n.b.Info().Name,
	}
	for k, v := range n.notes {
		meta[notePrefix+k] = v
	}
	var tensors []safetensors.Tensor
	for _, p := range n.params {
		w, err := n.download("save "+p.name, p.w)
		if err != nil {
			return nil, nil, err
		}
		if err := n.finite("save", p.name, w); err != nil {
			return nil, nil, err
		}
		tensors = append(tensors, safetensors.Float32Tensor(p.name, p.shape, w))
	}
	for _, p := range n.params {
		v, err := n.opt.Momentum(p.name)
		if err != nil {
			return nil, nil, err
		}
		if err := n.finite("save", momentumPrefix+p.name, v); err != nil {
			return nil, nil, err
		}
		tensors = append(tensors, safetensors.Float32Tensor(momentumPrefix+p.name, p.shape, v))
	}
	sums := map[string]string{}
	for _, t := range tensors {
		sums[t.Name] = fmt.Sprintf("%08x", crc32.Checksum(t.Data, castagnoli))
	}
	js, err := json.Marshal(sums)
	if err != nil {
		return nil, nil, fmt.Errorf("alexnet: save: checksums: %w", err)
	}
	meta[metaCRC] = string(js)
	var infos []safetensors.TensorInfo
	var off int64
	for _, t := range tensors { // the byte ranges Encode gives them
		infos = append(infos, safetensors.TensorInfo{Name: t.Name, DType: t.DType, Shape: t.Shape, Begin: off, End: off + int64(len(t.Data))})
		off += int64(len(t.Data))
	}
	meta[metaHeaderCRC] = headerChecksum(meta, infos)
	return meta, tensors, nil
}

// headerChecksum is the CRC-32C, as 8 hex digits, of a canonical encoding
// of a checkpoint's header: the metadata in key order (without
// metaHeaderCRC itself), then the tensors in data order, every string and
// number length-prefixed so that no two headers encode alike. It is
// computed from the parsed values, so any edit of the header that changes
// what a loader would read changes it.
func headerChecksum(meta map[string]string, tensors []safetensors.TensorInfo) string {
	h := crc32.New(castagnoli)
	var buf [binary.MaxVarintLen64]byte
	num := func(v uint64) { h.Write(buf[:binary.PutUvarint(buf[:], v)]) }
	str := func(s string) { num(uint64(len(s))); io.WriteString(h, s) }
	keys := slices.DeleteFunc(slices.Sorted(maps.Keys(meta)), func(k string) bool { return k == metaHeaderCRC })
	num(uint64(len(keys)))
	for _, k := range keys {
		str(k)
		str(meta[k])
	}
	num(uint64(len(tensors)))
	for _, t := range tensors {
		str(t.Name)
		str(string(t.DType))
		num(uint64(len(t.Shape)))
		for _, d := range t.Shape {
			num(uint64(d))
		}
		num(uint64(t.Begin))
		num(uint64(t.End))
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// Load reads a checkpoint written by Save and builds the network it
// describes on b, which may be any backend: tensors cross through Upload.
// Every tensor's shape is checked against the checkpoint's config and the
// first mismatch is reported by name; a truncated or corrupt file is an
// error, never a panic.
//
// Only a regular file is read (not /dev/zero or a pipe), and its header is
// checked against its size before the tensor data is read, so memory stays
// bounded by the size of a well-formed checkpoint.
func Load(b backend.Backend, path string) (*Network, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alexnet: load: %w", err)
	}
	n, err := load(b, f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return n, nil
}

// ReadCheckpoint is Load from the bytes of a checkpoint.
func ReadCheckpoint(b backend.Backend, data []byte) (*Network, error) {
	f, err := safetensors.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("alexnet: load: %w", err)
	}
	return load(b, f)
}

// load builds the network of a parsed checkpoint.
func load(b backend.Backend, f *safetensors.File) (*Network, error) {
	if err := checkHeader(f); err != nil {
		return nil, err
	}
	cfg, st, err := parseCheckpointMeta(f.Metadata)
	if err != nil {
		return nil, err
	}
	layers, err := cfg.layers()
	if err != nil {
		return nil, fmt.Errorf("%w (the config of the checkpoint being loaded)", err)
	}
	// Check every tensor before allocating anything, so memory stays
	// bounded by the file's size whatever the config claims.
	want := map[string]backend.Shape{}
	var order []string
	for _, l := range layers {
		order = append(order, l.name+".weight", l.name+".bias")
		want[l.name+".weight"], want[l.name+".bias"] = l.wshape, backend.Shape{l.wshape[0]}
	}
	for _, name := range order {
		want[momentumPrefix+name] = want[name]
	}
	order = append(order, prefixed(order)...)
	for _, name := range order {
		info, ok := f.Info(name)
		if !ok {
			return nil, fmt.Errorf("alexnet: load: tensor %s is missing (config %q wants %v)", name, cfg.Name, want[name])
		}
		if info.DType != safetensors.F32 {
			return nil, fmt.Errorf("alexnet: load: tensor %s has dtype %s, want F32", name, info.DType)
		}
		if !backend.Shape(info.Shape).Equal(want[name]) {
			return nil, fmt.Errorf("alexnet: load: tensor %s has shape %v, config %q wants %v", name, backend.Shape(info.Shape), cfg.Name, want[name])
		}
	}
	for _, t := range f.Tensors() {
		if _, ok := want[t.Name]; !ok {
			return nil, fmt.Errorf("alexnet: load: unexpected tensor %q (not a parameter or momentum buffer of config %q)", t.Name, cfg.Name)
		}
	}
	for _, name := range order {
		raw, _, err := f.Raw(name)
		if err != nil {
			return nil, fmt.Errorf("alexnet: load: %w", err)
		}
		if got := fmt.Sprintf("%08x", crc32.Checksum(raw, castagnoli)); got != st.sums[name] {
			return nil, fmt.Errorf("alexnet: load: tensor %s is corrupt: its bytes have CRC-32C %s, the checkpoint recorded %q", name, got, st.sums[name])
		}
	}

	n, err := build(b, cfg)
	if err != nil {
		return nil, err
	}
	if err := n.restore(f); err != nil {
		n.Close()
		return nil, err
	}
	n.step, n.opt.lr, n.opt.sched = st.step, st.lr, st.sched
	for k, v := range f.Metadata {
		if key, ok := strings.CutPrefix(k, notePrefix); ok && key != "" {
			if n.notes == nil {
				n.notes = map[string]string{}
			}
			n.notes[key] = v
		}
	}
	return n, nil
}

// checkHeader checks the format and the header checksum, before anything
// in the header is believed.
func checkHeader(f *safetensors.File) error {
	meta := f.Metadata
	if meta == nil {
		return errors.New("alexnet: load: no __metadata__: not a dnngo AlexNet checkpoint")
	}
	switch v := meta[metaFormat]; v {
	case CheckpointFormat:
	case oldCheckpointFormat:
		return fmt.Errorf("alexnet: load: checkpoint format %q was written by an older dnngo, before checkpoints carried a header checksum; "+
			"this version reads only %q: load it with the dnngo that wrote it, or train again", v, CheckpointFormat)
	default:
		return fmt.Errorf("alexnet: load: metadata format %q, want %q", v, CheckpointFormat)
	}
	want, ok := meta[metaHeaderCRC]
	if !ok {
		return fmt.Errorf("alexnet: load: metadata %q is missing", metaHeaderCRC)
	}
	if got := headerChecksum(meta, f.Tensors()); got != want {
		return fmt.Errorf("alexnet: load: the checkpoint's header (config, training state, notes, tensor table) has CRC-32C %s, "+
			"the checkpoint recorded %q: the file was changed after it was written", got, want)
	}
	return nil
}

// notePrefix marks the metadata keys that hold SetNote's notes.
const notePrefix = "note."

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, s := range names {
		out[i] = momentumPrefix + s
	}
	return out
}

// restore uploads the parameters and momentum buffers of f (already
// checked against the config).
func (n *Network) restore(f *safetensors.File) error {
	if err := n.opt.ensure(); err != nil {
		return fmt.Errorf("alexnet: load: %w", err)
	}
	for _, p := range n.params {
		for _, t := range []struct {
			name string
			dst  backend.Tensor
		}{{p.name, p.w}, {momentumPrefix + p.name, n.opt.v[p.index]}} {
			v, _, err := f.Float32(t.name)
			if err != nil {
				return fmt.Errorf("alexnet: load: %w", err)
			}
			if i := slices.IndexFunc(v, func(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }); i >= 0 {
				return fmt.Errorf("alexnet: load: tensor %s holds a non-finite value (%v at index %d)", t.name, v[i], i)
			}
			if err := n.b.Upload(t.dst, v); err != nil {
				return fmt.Errorf("alexnet: load: tensor %s: %w", t.name, err)
			}
		}
	}
	return nil
}

type trainState struct {
	step  uint64
	lr    float32
	sched schedState
	sums  map[string]string // CRC-32C per tensor
}

// parseCheckpointMeta reads and checks the metadata of a checkpoint.
func parseCheckpointMeta(meta map[string]string) (Config, trainState, error) {
	var cfg Config
	var st trainState
	bad := func(format string, args ...any) (Config, trainState, error) {
		return Config{}, trainState{}, fmt.Errorf("alexnet: load: "+format, args...)
	}
	if meta == nil {
		return bad("no __metadata__: not a dnngo AlexNet checkpoint")
	}
	if f := meta[metaFormat]; f != CheckpointFormat {
		return bad("metadata format %q, want %q", f, CheckpointFormat)
	}
	for _, k := range []string{metaConfig, metaStep, metaLR, metaSchedule, metaCRC} {
		if _, ok := meta[k]; !ok {
			return bad("metadata %q is missing", k)
		}
	}
	if err := strictJSON(meta[metaConfig], &cfg); err != nil {
		return bad("metadata config: %v", err)
	}
	step, err := strconv.ParseUint(meta[metaStep], 10, 64)
	if err != nil {
		return bad("metadata step %q: want a non-negative integer", meta[metaStep])
	}
	lr, err := strconv.ParseFloat(meta[metaLR], 32)
	if err != nil || math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
		return bad("metadata lr %q: want a finite number ≥ 0", meta[metaLR])
	}
	if err := strictJSON(meta[metaSchedule], &st.sched); err != nil {
		return bad("metadata schedule: %v", err)
	}
	if s := st.sched; s.Bad < 0 || s.Drops < 0 || math.IsNaN(s.Best) {
		return bad("metadata schedule %s: negative counts or NaN best", meta[metaSchedule])
	}
	if err := strictJSON(meta[metaCRC], &st.sums); err != nil {
		return bad("metadata crc32c: %v", err)
	}
	st.step, st.lr = step, float32(lr)
	return cfg, st, nil
}

// strictJSON decodes s into v, rejecting unknown fields and trailing data.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
