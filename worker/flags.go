package worker

import (
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// A Section is a group of settings named by the start of their YAML keys:
// SectionTemporal holds temporal.address, temporal.namespace and the rest.
// A whole key ("sentinel.workflow_id") is a section of one setting.
type Section string

// The sections of Config, one per YAML section (and shutdown_timeout).
const (
	SectionTemporal    Section = "temporal"
	SectionNeo4j       Section = "neo4j"
	SectionHTTP        Section = "http"
	SectionLog         Section = "log"
	SectionLineage     Section = "lineage"
	SectionML          Section = "ml"
	SectionAlerts      Section = "alerts"
	SectionSentinel    Section = "sentinel"
	SectionInterceptor Section = "interceptor"
	SectionShutdown    Section = "shutdown_timeout"
)

// holds reports whether the setting with this key is in the section.
func (s Section) holds(key string) bool {
	return key == string(s) || strings.HasPrefix(key, string(s)+".")
}

// BindFlags registers --config and one typed flag for each setting of the
// given sections on fs (every section when none is given), so that a
// command shows only the flags it uses. Booleans, durations (90s, 36h, 7d),
// integers and comma-separated lists take the forms the YAML file takes;
// --help shows each flag's default, and none for secrets. Load applies the
// flags the user set on top of the file and the environment.
func BindFlags(fs *pflag.FlagSet, sections ...Section) {
	def := DefaultConfig()
	fs.String("config", "", "YAML configuration file (env "+ConfigFileEnv+")")
	for _, s := range settings() {
		if !inSections(s.key, sections) {
			continue
		}
		v := &flagValue{s: s}
		if s.kind != secret && !s.fromFile {
			v.text = s.get(&def)
		}
		f := fs.VarPF(v, s.flag(), "", s.help+" (env "+s.env()+")")
		if v.IsBoolFlag() {
			f.NoOptDefVal = "true" // --sentinel-enabled alone means true
		}
	}
}

func inSections(key string, sections []Section) bool {
	if len(sections) == 0 {
		return true
	}
	for _, sec := range sections {
		if sec.holds(key) {
			return true
		}
	}
	return false
}

// flagText is the text of s's flag when the user set it.
func flagText(fs *pflag.FlagSet, s setting) (string, bool) {
	if fs == nil {
		return "", false
	}
	f := fs.Lookup(s.flag())
	if f == nil || !f.Changed {
		return "", false
	}
	if v, ok := f.Value.(*flagValue); ok {
		return v.text, true
	}
	return f.Value.String(), true
}

// flagValue is a setting's flag. It checks a value with the setting's own
// parser as the flag is parsed, so that a bad value is refused naming the
// flag, and keeps the text for Load to apply in its turn.
type flagValue struct {
	s    setting
	text string
	set  bool // given once already: a list given again grows
}

// Set implements pflag.Value.
func (v *flagValue) Set(text string) error {
	if v.s.kind == list && v.set && v.text != "" {
		text = v.text + "," + text
	}
	if !v.s.fromFile { // a file is read by Load, once
		var scratch Config
		if err := v.s.set(&scratch, text); err != nil {
			return err
		}
	}
	v.text, v.set = text, true
	return nil
}

// String implements pflag.Value.
func (v *flagValue) String() string {
	if v.s.kind == list && v.text != "" {
		return "[" + v.text + "]"
	}
	return v.text
}

// IsBoolFlag tells pflag that a boolean flag alone means true, and --help
// shows it as --flag[=true|false], like pflag's own.
func (v *flagValue) IsBoolFlag() bool { return v.Type() == "bool" }

// Type implements pflag.Value: the type --help shows.
func (v *flagValue) Type() string {
	if v.s.fromFile {
		return "file"
	}
	if v.s.kind == list {
		return "strings"
	}
	switch v.s.ref(&Config{}).(type) {
	case *bool:
		return "bool"
	case *int64:
		return "int"
	case *time.Duration:
		return "duration"
	default:
		return "string"
	}
}
