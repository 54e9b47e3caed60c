package lineage

import (
	"context"
	"errors"
	"reflect"
	"sync"
)

// Capture collects the datasets one activity attempt declares. The
// interceptor puts one in each activity's context; Input and Output add to
// it.
type Capture struct {
	mu      sync.Mutex
	inputs  []Dataset
	outputs []Dataset
}

type captureKey struct{}

// WithCapture returns ctx carrying c, for Input and Output to find.
func WithCapture(ctx context.Context, c *Capture) context.Context {
	return context.WithValue(ctx, captureKey{}, c)
}

// Input declares that the running activity read d. It returns an error
// naming what is wrong with d. Outside a worker with the pipewatch
// interceptor (a unit test, another worker) it records nothing and returns
// nil, as a tracer without a provider does: steps run the same with or
// without pipewatch.
func Input(ctx context.Context, d Dataset, facets ...Facet) error {
	return declare(ctx, d.With(facets...), false)
}

// Output declares that the running activity wrote d, with its facets.
// Outputs of a failed attempt are not recorded (its inputs are).
func Output(ctx context.Context, d Dataset, facets ...Facet) error {
	return declare(ctx, d.With(facets...), true)
}

func declare(ctx context.Context, d Dataset, output bool) error {
	if err := d.Validate(); err != nil {
		return err
	}
	c, ok := ctx.Value(captureKey{}).(*Capture)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if output {
		c.outputs = append(c.outputs, d)
	} else {
		c.inputs = append(c.inputs, d)
	}
	return nil
}

// Add records datasets found elsewhere (in an activity's arguments or
// result), as Input and Output do. Invalid ones are left out, and the
// returned error names each and what is wrong with it.
func (c *Capture) Add(inputs, outputs []Dataset) error {
	if len(inputs) == 0 && len(outputs) == 0 {
		return nil
	}
	var errs []error
	valid := func(ds []Dataset) []Dataset {
		out := ds[:0:0]
		for _, d := range ds {
			if err := d.Validate(); err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, d)
		}
		return out
	}
	inputs, outputs = valid(inputs), valid(outputs)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inputs = append(c.inputs, inputs...)
	c.outputs = append(c.outputs, outputs...)
	return errors.Join(errs...)
}

// Datasets returns what was declared, each version once, the facets of
// repeats merged. A version both read and written counts as read only: a
// step that passes its input on in its result did not produce it.
func (c *Capture) Datasets() (inputs, outputs []Dataset) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.inputs) == 0 && len(c.outputs) == 0 {
		return nil, nil
	}
	inputs = uniq(c.inputs)
	read := make(map[string]bool, len(inputs))
	for _, d := range inputs {
		read[d.VersionID()] = true
	}
	written := make([]Dataset, 0, len(c.outputs))
	for _, d := range c.outputs {
		if !read[d.VersionID()] {
			written = append(written, d)
		}
	}
	return inputs, uniq(written)
}

// uniq keeps the datasets, each version once in the order first
// met, with the facets of its repeats merged in.
func uniq(ds []Dataset) []Dataset {
	var out []Dataset
	at := map[string]int{}
	for _, d := range ds {
		id := d.VersionID()
		i, seen := at[id]
		if !seen {
			at[id] = len(out)
			out = append(out, d)
			continue
		}
		if d.Facets != nil {
			out[i] = out[i].With(func(f *Facets) { mergeFacets(f, d.Facets) })
		}
	}
	return out
}

func mergeFacets(dst, src *Facets) {
	if src.Schema != nil {
		dst.Schema = src.Schema
	}
	if src.Rows != nil {
		dst.Rows = src.Rows
	}
	if src.Quality != nil {
		dst.Quality = src.Quality
	}
	if src.Metrics != nil {
		dst.Metrics = src.Metrics
	}
	if src.Hyperparameters != nil {
		dst.Hyperparameters = src.Hyperparameters
	}
}

// Finder finds Dataset values inside arbitrary values: on their own, behind
// pointers and interfaces, in struct fields (exported or not), slices,
// arrays and map values. It remembers which types cannot hold one, so a
// step whose arguments hold no Dataset costs a map lookup per argument.
type Finder struct {
	noRefs sync.Map // reflect.Type -> struct{}: cannot hold a Dataset
}

var datasetType = reflect.TypeFor[Dataset]()

// Find returns the datasets in v, in the order met; Capture.Add checks
// them.
func (f *Finder) Find(v any) []Dataset {
	if v == nil {
		return nil
	}
	switch d := v.(type) {
	case Dataset:
		return []Dataset{d}
	case *Dataset:
		if d == nil {
			return nil
		}
		return []Dataset{*d}
	}
	rv := reflect.ValueOf(v)
	if !f.mayHold(rv.Type(), nil) {
		return nil
	}
	w := walker{f: f}
	w.walk(rv, 0)
	return w.out
}

// maxDepth bounds the walk through nested values (and cycles of pointers).
const maxDepth = 32

// walker is one Find: what it found and the pointers it followed.
type walker struct {
	f    *Finder
	out  []Dataset
	seen map[uintptr]bool
}

func (w *walker) walk(v reflect.Value, depth int) {
	if depth > maxDepth || !v.IsValid() {
		return
	}
	if v.Type() == datasetType {
		w.out = append(w.out, datasetOf(v))
		return
	}
	if !w.f.mayHold(v.Type(), nil) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if w.seen == nil {
			w.seen = map[uintptr]bool{}
		}
		if w.seen[v.Pointer()] { // a cycle, or the same value twice
			return
		}
		w.seen[v.Pointer()] = true
		w.walk(v.Elem(), depth+1)
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			w.walk(v.Field(i), depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			w.walk(v.Index(i), depth+1)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			w.walk(it.Value(), depth+1)
		}
	}
}

// datasetOf reads a Dataset from v, also from an unexported field.
func datasetOf(v reflect.Value) Dataset {
	if v.CanInterface() {
		return v.Interface().(Dataset)
	}
	d := Dataset{Kind: Kind(v.Field(0).String()), Key: v.Field(1).String(), Version: v.Field(2).String()}
	if fp := v.Field(3); !fp.IsNil() && fp.Elem().CanInterface() {
		facets := fp.Elem().Interface().(Facets)
		d.Facets = &facets
	}
	return d
}

// mayHold tells whether a value of type t can contain a Dataset. Interface
// types can hold anything.
func (f *Finder) mayHold(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if t == datasetType {
		return true
	}
	if _, no := f.noRefs.Load(t); no {
		return false
	}
	var may bool
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		may = f.mayHoldVisiting(t.Elem(), t, visiting)
	case reflect.Struct:
		for i := range t.NumField() {
			if f.mayHoldVisiting(t.Field(i).Type, t, visiting) {
				may = true
				break
			}
		}
	}
	if !may && len(visiting) == 0 {
		f.noRefs.Store(t, struct{}{})
	}
	return may
}

// mayHoldVisiting guards recursive types: a type already being looked at
// is assumed to hold nothing more than what the rest of it holds.
func (f *Finder) mayHoldVisiting(t, parent reflect.Type, visiting map[reflect.Type]bool) bool {
	if visiting[t] {
		return false
	}
	if visiting == nil {
		visiting = map[reflect.Type]bool{}
	}
	visiting[parent] = true
	defer delete(visiting, parent)
	return f.mayHold(t, visiting)
}
