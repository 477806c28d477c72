package guardrails

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// FieldError is one invalid value, located by its path in the object it came from.
type FieldError struct {
	Field   string
	Message string
}

// FieldErrors collects every problem of one object, so that a single run reports
// all of them instead of the first only.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Field + ": " + fe.Message
	}
	return strings.Join(lines, "\n")
}

func (e *FieldErrors) add(field, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// decodeStrict decodes one JSON object into `into`, refusing unknown fields and
// trailing data: a typo in an annotation or the config must fail, not be ignored.
// The error explains the problem in the terms of the contract (allowed fields,
// expected types) rather than Go's.
func decodeStrict(data []byte, into any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("must be a JSON object ({...})")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return describeDecodeError(err, reflect.TypeOf(into))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

func describeDecodeError(err error, target reflect.Type) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "value"
		}
		return fmt.Errorf("%s: a JSON %s is not allowed here; want %s", field, typeErr.Value, jsonTypeName(typeErr.Type))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("%s; allowed fields: %s", strings.TrimPrefix(err.Error(), "json: "),
			strings.Join(fieldPaths(target), ", "))
	}
	return err
}

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "an object"
	}
}

// fieldPaths lists every field a JSON document for t may hold, as dotted paths
// (lists as `[]`, maps of objects as `<name>`), derived from the json tags so
// that the list in an error can never disagree with what the decoder accepts.
func fieldPaths(t reflect.Type) []string {
	var paths []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Struct:
			for i := range t.NumField() {
				name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
				if name == "" || name == "-" {
					continue
				}
				walk(t.Field(i).Type, joinPath(path, name))
			}
		case t.Kind() == reflect.Slice && isStruct(t.Elem()):
			walk(t.Elem(), path+"[]")
		case t.Kind() == reflect.Map && isStruct(t.Elem()):
			walk(t.Elem(), path+".<name>")
		default:
			paths = append(paths, path)
		}
	}
	walk(t, "")
	return paths
}

func isStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
