package interceptors

import (
	"reflect"
	"strings"
)

// runLabels are what a run is about, when its input says: the model it
// trains or serves and the dataset version it reads.
type runLabels struct {
	model, datasetVersion string
}

// findRunLabels looks through a workflow's input for the model name and
// dataset version: string fields tagged `pipewatch:"model"` or
// `pipewatch:"dataset_version"`, else fields named ModelName or Model, and
// DatasetVersion, in structs (or pointers to them) among the arguments,
// one level of nesting deep. Input that has none gives empty labels.
func findRunLabels(args []any) runLabels {
	var l runLabels
	for _, a := range args {
		visitStruct(reflect.ValueOf(a), 2, &l)
	}
	return l
}

func visitStruct(v reflect.Value, depth int, l *runLabels) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || depth == 0 {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() != reflect.String {
			visitStruct(fv, depth-1, l)
			continue
		}
		tag := f.Tag.Get("pipewatch")
		switch {
		case tag == "model" || (tag == "" && l.model == "" && (f.Name == "ModelName" || f.Name == "Model")):
			if s := strings.TrimSpace(fv.String()); s != "" {
				l.model = s
			}
		case tag == "dataset_version" || (tag == "" && l.datasetVersion == "" && f.Name == "DatasetVersion"):
			if s := strings.TrimSpace(fv.String()); s != "" {
				l.datasetVersion = s
			}
		}
	}
}
