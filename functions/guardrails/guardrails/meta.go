package guardrails

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// itemMeta is what the function reads from every item. It is read by walking
// the nodes defensively: kyaml's getters assume well-formed metadata and
// panic on, for example, annotations written as a list.
type itemMeta struct {
	apiVersion, kind, name, namespace string
	labels, annotations               map[string]string
}

func (m itemMeta) key() objectKey {
	t := objectType{apiVersion: m.apiVersion, kind: m.kind}
	return objectKey{group: t.group(), kind: m.kind, namespace: m.namespace, name: m.name}
}

func (m itemMeta) ref() yaml.ResourceIdentifier {
	return yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: m.apiVersion, Kind: m.kind},
		NameMeta: yaml.NameMeta{Name: m.name, Namespace: m.namespace},
	}
}

func readMetadata(item *yaml.RNode) (itemMeta, FieldErrors) {
	var meta itemMeta
	var errs FieldErrors
	root := mapping(item.YNode())
	if root == nil {
		errs.add("", "a resource must be a YAML mapping")
		return meta, errs
	}
	meta.apiVersion = scalar(field(root, yaml.APIVersionField))
	meta.kind = scalar(field(root, yaml.KindField))
	metadata := field(root, yaml.MetadataField)
	if metadata == nil || metadata.Tag == nullTag {
		return meta, errs
	}
	if metadata.Kind != yaml.MappingNode {
		errs.add(yaml.MetadataField, "must be a mapping")
		return meta, errs
	}
	meta.name = scalar(field(metadata, yaml.NameField))
	meta.namespace = scalar(field(metadata, yaml.NamespaceField))
	meta.labels = stringMap(field(metadata, yaml.LabelsField), "metadata.labels", &errs)
	meta.annotations = stringMap(field(metadata, yaml.AnnotationsField), "metadata.annotations", &errs)
	return meta, errs
}

const nullTag = "!!null"

// mapping unwraps a document and returns the node if it is a mapping.
func mapping(node *yaml.Node) *yaml.Node {
	if node != nil && node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	if node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	return node
}

// field returns the value of key in a mapping node, or nil.
func field(node *yaml.Node, key string) *yaml.Node {
	if node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

// removeField deletes key from a mapping node.
func removeField(node *yaml.Node, key string) {
	if node == nil || node.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			node.Content = append(node.Content[:i], node.Content[i+2:]...)
			return
		}
	}
}

func scalar(node *yaml.Node) string {
	if node == nil || node.Kind != yaml.ScalarNode || node.Tag == nullTag {
		return ""
	}
	return node.Value
}

func stringMap(node *yaml.Node, path string, errs *FieldErrors) map[string]string {
	values := map[string]string{}
	if node == nil || node.Tag == nullTag {
		return values
	}
	if node.Kind != yaml.MappingNode {
		errs.add(path, "must be a mapping of strings")
		return values
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if key.Kind != yaml.ScalarNode || value.Kind != yaml.ScalarNode {
			errs.add(path, "must be a mapping of strings")
			continue
		}
		values[key.Value] = scalar(value)
	}
	return values
}
