package plexsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"

	"github.com/go-viper/mapstructure/v2"

	"github.com/plexlogin/plexlogin/shared/source"
)

// legacyServerIDs is schema version 1's list of allowed machine IDs.
const legacyServerIDs = "allowed_server_ids"

// legacyKeepUserToken is the old name of SSOField, still read (never written).
const legacyKeepUserToken = "keep_user_token"

// decodeConfig decodes raw into a Config with mapstructure, reporting every unknown and
// every mistyped setting together, per field, and migrating schema version 1.
func decodeConfig(raw json.RawMessage) (Config, []source.FieldError) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // 1.5 or 1e30 for a whole number is an error, never 1 or MinInt64
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return c, []source.FieldError{{Field: "", Message: "the config must be a JSON object"}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return c, []source.FieldError{{Field: "", Message: "the config must be one JSON object"}}
	}
	errs := unknownKeys(m)
	md := mapstructure.Metadata{}
	d, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		TagName:    "json",
		Result:     &c,
		Metadata:   &md,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(migrateV1, migrateKeepUserToken, noNumberAsText),
	})
	if err != nil {
		return c, []source.FieldError{{Message: "internal: " + err.Error()}}
	}
	if err := d.Decode(m); err != nil {
		errs = append(errs, typeErrors(err)...)
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return c, errs
}

// schemaProp is what decoding needs of one schema property.
type schemaProp struct {
	Type  string `json:"type"`
	Items *struct {
		Type       string                `json:"type"`
		Properties map[string]schemaProp `json:"properties"`
	} `json:"items"`
}

// knownKeys is the settings the schema declares, per level ("" the top, "allowed_servers[]"
// an item); settingType is each one's JSON Schema type by path without indices.
var knownKeys, settingType = func() (map[string]map[string]bool, map[string]string) {
	var s struct {
		Properties map[string]schemaProp `json:"properties"`
	}
	if err := json.Unmarshal(configSchema(), &s); err != nil {
		panic(err)
	}
	keys := map[string]map[string]bool{"": {legacyServerIDs: true, legacyKeepUserToken: true}}
	types := map[string]string{}
	for name, p := range s.Properties {
		keys[""][name] = true
		types[name] = p.Type
		if p.Items == nil {
			continue
		}
		types[name+"[]"] = p.Items.Type
		if p.Items.Properties != nil {
			keys[name+"[]"] = map[string]bool{}
			for k, ip := range p.Items.Properties {
				keys[name+"[]"][k] = true
				types[name+"[]."+k] = ip.Type
			}
		}
	}
	return keys, types
}()

// unknownKeys lists the keys of m (and of its list items of objects) the schema does not declare.
func unknownKeys(m map[string]any) []source.FieldError {
	var errs []source.FieldError
	for k, v := range m {
		if !knownKeys[""][k] {
			errs = append(errs, source.FieldError{Field: k, Message: "unknown setting"})
			continue
		}
		item, ok := knownKeys[k+"[]"]
		list, isList := v.([]any)
		if !ok || !isList {
			continue
		}
		for i, x := range list {
			obj, _ := x.(map[string]any)
			for ik := range obj {
				if !item[ik] {
					errs = append(errs, source.FieldError{Field: fmt.Sprintf("%s[%d].%s", k, i, ik), Message: "unknown setting"})
				}
			}
		}
	}
	return errs
}

// fieldError is a problem a decode hook found, for one setting.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

var configType = reflect.TypeOf(Config{})

// migrateV1 turns version 1's "allowed_server_ids" into "allowed_servers" entries.
func migrateV1(from, to reflect.Type, data any) (any, error) {
	m, ok := data.(map[string]any)
	if to != configType || !ok {
		return data, nil
	}
	ids, has := m[legacyServerIDs]
	if !has {
		return data, nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	delete(out, legacyServerIDs)
	list, ok := ids.([]any)
	if !ok && ids != nil {
		return nil, &fieldError{legacyServerIDs, "must be a list of machine IDs"}
	}
	servers := make([]any, 0, len(list))
	for _, id := range list {
		s, ok := id.(string)
		if !ok {
			return nil, &fieldError{legacyServerIDs, "must be a list of machine IDs"}
		}
		servers = append(servers, map[string]any{"machine_id": s})
	}
	if _, newer := out["allowed_servers"]; !newer {
		out["allowed_servers"] = servers
	}
	return out, nil
}

// migrateKeepUserToken reads the old "keep_user_token" as SSOField, which wins when both are set.
func migrateKeepUserToken(from, to reflect.Type, data any) (any, error) {
	m, ok := data.(map[string]any)
	if to != configType || !ok {
		return data, nil
	}
	old, has := m[legacyKeepUserToken]
	if !has {
		return data, nil
	}
	keep, ok := old.(bool)
	if !ok && old != nil {
		return nil, &fieldError{legacyKeepUserToken, "must be true or false"}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	delete(out, legacyKeepUserToken)
	if _, newer := out[SSOField]; !newer {
		out[SSOField] = keep
	}
	return out, nil
}

// noNumberAsText refuses a JSON number where text is expected (mapstructure would take
// json.Number, a string kind, as the digits).
func noNumberAsText(from, to reflect.Type, data any) (any, error) {
	if _, ok := data.(json.Number); ok && to.Kind() == reflect.String {
		return nil, &mapstructure.UnconvertibleTypeError{Expected: reflect.New(to).Elem(), Value: data}
	}
	return data, nil
}

// typeErrors turns mapstructure's joined errors into per-field errors, by type, not text.
func typeErrors(err error) []source.FieldError {
	var out []source.FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *mapstructure.DecodeError:
			var fe *fieldError
			var inner *mapstructure.DecodeError
			_, joined := e.Unwrap().(interface{ Unwrap() []error })
			switch {
			case errors.As(e.Unwrap(), &fe):
				out = append(out, source.FieldError{Field: fe.field, Message: fe.msg})
			case joined || errors.As(e.Unwrap(), &inner):
				walk(e.Unwrap())
			default:
				out = append(out, source.FieldError{Field: e.Name(), Message: "must be " + expected(e.Name())})
			}
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		default:
			out = append(out, source.FieldError{Message: "the config could not be read"})
		}
	}
	walk(err)
	return out
}

var indexRE = regexp.MustCompile(`\[[0-9]+\]`)

// expected describes, in words, the type the schema declares for a setting's path.
func expected(path string) string {
	t := settingType[indexRE.ReplaceAllString(path, "[]")]
	switch t {
	case "string":
		return "text"
	case "boolean":
		return "true or false"
	case "integer":
		return "a whole number"
	case "number":
		return "a number"
	case "object":
		return "an object"
	case "array":
		switch settingType[indexRE.ReplaceAllString(path, "[]")+"[]"] {
		case "string":
			return "a list of text"
		case "integer":
			return "a list of whole numbers"
		case "object":
			return "a list of objects"
		}
		return "a list"
	}
	return "of another type"
}
