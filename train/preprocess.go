package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dnngo/dnngo/alexnet"
	"github.com/dnngo/dnngo/data/augment"
)

// Preprocess is how images become network input: resized so the shorter
// side is Resize (then squared), the per-channel Mean subtracted, and a
// Crop×Crop window taken. It is saved in the checkpoint (as the note
// "preprocess") so that evaluation and classification feed a trained
// network exactly what it was trained on.
//
// The note is JSON, e.g. for a 227×227 network trained on pixels in [0, 1]:
//
//	{"resize":256,"crop":227,"mean":[0.4856,0.4856,0.4856]}
//
// and the note "labels" a JSON array of the class names in class order.
// "alexnet train" writes both; a program that trains with package alexnet
// writes them with Describe before net.Save, so that "alexnet eval" and
// "alexnet classify" can use its checkpoints.
type Preprocess struct {
	Resize int        `json:"resize"` // shorter side before cropping
	Crop   int        `json:"crop"`   // the network's input side
	Mean   [3]float32 `json:"mean"`   // subtracted per channel, pixels in [0, 1]
}

// DefaultPreprocess is the preprocessing "alexnet train" uses for a
// network of cfg's input size with the paper's augmentation: the shorter
// side resized to 256/227 of the input (256 for 227), a centre
// Input×Input crop, and mean, the training set's per-channel mean of
// pixels in [0, 1] (zero: nothing subtracted).
func DefaultPreprocess(cfg alexnet.Config, mean [3]float32) Preprocess {
	return Preprocess{Resize: (cfg.Input*256 + 113) / 227, Crop: cfg.Input, Mean: mean}
}

// ErrNoPreprocess is wrapped by Described's error for a checkpoint without
// the "preprocess" note (saved by a program that did not call Describe).
var ErrNoPreprocess = errors.New("no preprocessing note")

// Eval returns the evaluation pipeline: the resize, the mean, then the
// centre crop or the paper's ten crops (four corners and the centre, and
// their mirror images).
func (p Preprocess) Eval(tenCrop bool) *augment.Pipeline {
	pl := &augment.Pipeline{Resize: augment.Resize{Shorter: p.Resize, Square: true},
		Steps: []augment.Step{augment.SubtractMean{Mean: p.Mean}}}
	if tenCrop {
		pl.Views = augment.TenCrop{H: p.Crop, W: p.Crop}
	} else {
		pl.Steps = append(pl.Steps, augment.CenterCrop{H: p.Crop, W: p.Crop})
	}
	return pl
}

// Train returns the paper's training pipeline for these sizes: random
// Crop×Crop windows of the resized image, horizontal flips, PCA colour
// noise (when pca is not nil) and the mean subtracted.
func (p Preprocess) Train(pca *augment.PCA) *augment.Pipeline {
	pl := &augment.Pipeline{Resize: augment.Resize{Shorter: p.Resize, Square: true},
		Steps: []augment.Step{augment.RandomCrop{H: p.Crop, W: p.Crop}, augment.Flip{P: 0.5}}}
	if pca != nil {
		pl.Steps = append(pl.Steps, augment.PCANoise{PCA: pca, Std: 0.1})
	}
	pl.Steps = append(pl.Steps, augment.SubtractMean{Mean: p.Mean})
	return pl
}

// Notes under which a trained network records its preprocessing and its
// class names.
const (
	NotePreprocess = "preprocess"
	NoteLabels     = "labels"
)

// Describe records the preprocessing and the class names in the network's
// checkpoint notes.
func Describe(net *alexnet.Network, p Preprocess, labels []string) error {
	pj, err := json.Marshal(p)
	if err != nil {
		return err
	}
	lj, err := json.Marshal(labels)
	if err != nil {
		return err
	}
	if err := net.SetNote(NotePreprocess, string(pj)); err != nil {
		return err
	}
	return net.SetNote(NoteLabels, string(lj))
}

// Described reads back what Describe recorded; a network without notes
// (trained elsewhere) gives an error saying what is missing.
func Described(net *alexnet.Network) (Preprocess, []string, error) {
	var p Preprocess
	var labels []string
	pj, lj := net.Note(NotePreprocess), net.Note(NoteLabels)
	if pj == "" {
		return p, nil, fmt.Errorf("train: the checkpoint has no %q note: it was not written by dnngo's trainer or a program calling train.Describe (%w)", NotePreprocess, ErrNoPreprocess)
	}
	if err := strictJSON(pj, &p); err != nil {
		return p, nil, fmt.Errorf("train: checkpoint note %q: %w", NotePreprocess, err)
	}
	if err := p.Check(net.Config().Input); err != nil {
		return p, nil, fmt.Errorf("train: checkpoint note %q: %w", NotePreprocess, err)
	}
	if lj != "" {
		if err := strictJSON(lj, &labels); err != nil {
			return p, nil, fmt.Errorf("train: checkpoint note %q: %w", NoteLabels, err)
		}
		if len(labels) != net.Config().Classes {
			return p, nil, fmt.Errorf("train: checkpoint note %q has %d names for %d classes", NoteLabels, len(labels), net.Config().Classes)
		}
		for i, l := range labels {
			if len(l) > MaxLabelLen {
				return p, nil, fmt.Errorf("train: checkpoint note %q: the name of class %d has %d bytes, more than %d", NoteLabels, i, len(l), MaxLabelLen)
			}
		}
	}
	return p, labels, nil
}

// MaxResize bounds Preprocess.Resize (the shorter side an image is resized
// to, and the side of the square it becomes): notes are read from files,
// and a size of 10⁹ would ask for exabytes. The paper resizes to 256.
const MaxResize = 4096

// MaxLabelLen bounds the length in bytes of a class name in the "labels"
// note.
const MaxLabelLen = 1024

// Check reports whether p is usable for a network with input×input
// images: 1 ≤ Crop = input ≤ Resize ≤ MaxResize, every Mean in [0, 1].
func (p Preprocess) Check(input int) error {
	switch {
	case p.Crop != input:
		return fmt.Errorf("crop %d for a %d×%d network", p.Crop, input, input)
	case p.Resize < p.Crop || p.Resize > MaxResize:
		return fmt.Errorf("resize %d: want from the crop %d to %d", p.Resize, p.Crop, MaxResize)
	}
	for c, m := range p.Mean {
		if !(m >= 0 && m <= 1) { // false for NaN
			return fmt.Errorf("mean of channel %d is %v: want a pixel value in [0, 1]", c, m)
		}
	}
	return nil
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
