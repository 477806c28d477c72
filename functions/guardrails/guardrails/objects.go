package guardrails

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The canonical guardrail objects of the design. The Helm door's templates
// render the same shapes; a parity test compares the two doors. Field order
// follows the design so that the output reads like the charts' output.

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels,omitempty"`
}

type podDisruptionBudgetSpec struct {
	MaxUnavailable             intOrPercent  `yaml:"maxUnavailable"`
	Selector                   labelSelector `yaml:"selector"`
	UnhealthyPodEvictionPolicy string        `yaml:"unhealthyPodEvictionPolicy"`
}

type networkPolicySpec struct {
	PodSelector labelSelector     `yaml:"podSelector"`
	PolicyTypes []string          `yaml:"policyTypes"`
	Ingress     []networkPolicyIn `yaml:"ingress,omitempty"`
	Egress      []networkPolicyTo `yaml:"egress,omitempty"`
}

type networkPolicyIn struct {
	From  []networkPolicyPeer `yaml:"from"`
	Ports []networkPolicyPort `yaml:"ports"`
}

type networkPolicyTo struct {
	To    []networkPolicyPeer `yaml:"to"`
	Ports []networkPolicyPort `yaml:"ports"`
}

type networkPolicyPeer struct {
	IPBlock           *ipBlock       `yaml:"ipBlock,omitempty"`
	NamespaceSelector *labelSelector `yaml:"namespaceSelector,omitempty"`
	PodSelector       *labelSelector `yaml:"podSelector,omitempty"`
}

type ipBlock struct {
	CIDR string `yaml:"cidr"`
}

type networkPolicyPort struct {
	Protocol string `yaml:"protocol"`
	Port     int    `yaml:"port"`
}

type scaledObjectSpec struct {
	ScaleTargetRef  scaleTargetRef        `yaml:"scaleTargetRef"`
	MinReplicaCount int                   `yaml:"minReplicaCount"`
	MaxReplicaCount int                   `yaml:"maxReplicaCount"`
	PollingInterval int64                 `yaml:"pollingInterval"`
	CooldownPeriod  int64                 `yaml:"cooldownPeriod"`
	Triggers        []scaledObjectTrigger `yaml:"triggers"`
}

type scaleTargetRef struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Name       string `yaml:"name"`
}

type scaledObjectTrigger struct {
	Type              string                    `yaml:"type"`
	Metadata          postgresqlTriggerMetadata `yaml:"metadata"`
	AuthenticationRef authenticationRef         `yaml:"authenticationRef"`
}

// KEDA's postgresql scaler reads every metadata value as a string.
type postgresqlTriggerMetadata struct {
	Host                       string `yaml:"host"`
	Port                       string `yaml:"port"`
	DBName                     string `yaml:"dbName"`
	UserName                   string `yaml:"userName"`
	SSLMode                    string `yaml:"sslmode"`
	Query                      string `yaml:"query"`
	TargetQueryValue           string `yaml:"targetQueryValue"`
	ActivationTargetQueryValue string `yaml:"activationTargetQueryValue"`
}

type authenticationRef struct {
	Name string `yaml:"name"`
}

type triggerAuthenticationSpec struct {
	SecretTargetRef []secretTargetRef `yaml:"secretTargetRef"`
}

type secretTargetRef struct {
	Parameter string `yaml:"parameter"`
	Name      string `yaml:"name"`
	Key       string `yaml:"key"`
}

// Kinds the function generates, with the apiVersion it writes.
var (
	podDisruptionBudgetType   = objectType{apiVersion: "policy/v1", kind: "PodDisruptionBudget"}
	networkPolicyType         = objectType{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy"}
	scaledObjectType          = objectType{apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject"}
	triggerAuthenticationType = objectType{apiVersion: "keda.sh/v1alpha1", kind: "TriggerAuthentication"}
)

type objectType struct {
	apiVersion, kind string
}

func (t objectType) group() string {
	group, _, found := strings.Cut(t.apiVersion, "/")
	if !found {
		return ""
	}
	return group
}

// objectKey identifies an object across apiVersions of one group, so that an
// older version of a generated object is updated rather than duplicated.
type objectKey struct {
	group, kind, namespace, name string
}

func (k objectKey) String() string {
	if k.namespace == "" {
		return k.kind + " " + k.name
	}
	return k.kind + " " + k.namespace + "/" + k.name
}

// desiredObject is a guardrail object to add, or to write over an existing one.
type desiredObject struct {
	objectType
	namespace, name string
	labels          map[string]string
	spec            any
	// owner names what the object guards; conflicts are reported on ownerRef's ownerField.
	owner      string
	ownerRef   yaml.ResourceIdentifier
	ownerField string
}

func (d desiredObject) key() objectKey {
	return objectKey{group: d.group(), kind: d.kind, namespace: d.namespace, name: d.name}
}

type objectMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

type object struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       any        `yaml:"spec"`
}

func (d desiredObject) node() (*yaml.RNode, error) {
	return encode(object{
		APIVersion: d.apiVersion,
		Kind:       d.kind,
		Metadata:   objectMeta{Name: d.name, Namespace: d.namespace, Labels: d.labels},
		Spec:       d.spec,
	})
}

// writeOver makes an existing object canonical while keeping what others put
// on it: its position, other metadata and extra labels.
func (d desiredObject) writeOver(existing *yaml.RNode) error {
	if existing.GetApiVersion() != d.apiVersion {
		existing.SetApiVersion(d.apiVersion)
	}
	labels, err := existing.Pipe(yaml.LookupCreate(yaml.MappingNode, yaml.MetadataField, yaml.LabelsField))
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(d.labels) {
		// Untouched labels keep their formatting, so a rerun changes no byte.
		if field := labels.Field(key); field != nil && field.Value.YNode().Value == d.labels[key] {
			continue
		}
		if err := labels.PipeE(yaml.SetField(key, yaml.NewStringRNode(d.labels[key]))); err != nil {
			return err
		}
	}
	spec, err := encode(d.spec)
	if err != nil {
		return err
	}
	return existing.PipeE(yaml.SetField("spec", spec))
}

// encode builds the node tree of a canonical object straight from its Go
// value; yaml.Node.Encode would print and re-parse every object, which
// dominated the function's run time on large inputs. Fields follow the yaml
// tags (name and omitempty), maps are sorted, strings carry the !!str tag so
// that the encoder quotes values like "5432".
func encode(v any) (*yaml.RNode, error) {
	node, err := toNode(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	return yaml.NewRNode(node), nil
}

// nodeMarshaler is implemented by values with their own YAML form.
type nodeMarshaler interface {
	yamlNode() *yaml.Node
}

func toNode(v reflect.Value) (*yaml.Node, error) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	if v.CanInterface() {
		if m, ok := v.Interface().(nodeMarshaler); ok {
			return m.yamlNode(), nil
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		node := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			name, option, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if option == "omitempty" && isEmpty(v.Field(i)) {
				continue
			}
			child, err := toNode(v.Field(i))
			if err != nil {
				return nil, err
			}
			if child == nil {
				continue
			}
			node.Content = append(node.Content, yaml.NewStringRNode(name).YNode(), child)
		}
		return node, nil
	case reflect.Map:
		node := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, key := range keys {
			child, err := toNode(v.MapIndex(key))
			if err != nil {
				return nil, err
			}
			node.Content = append(node.Content, yaml.NewStringRNode(key.String()).YNode(), child)
		}
		return node, nil
	case reflect.Slice:
		node := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			child, err := toNode(v.Index(i))
			if err != nil {
				return nil, err
			}
			node.Content = append(node.Content, child)
		}
		return node, nil
	case reflect.String:
		return yaml.NewStringRNode(v.String()).YNode(), nil
	case reflect.Int, reflect.Int64:
		return intNode(v.Int()), nil
	}
	return nil, fmt.Errorf("cannot encode a %s", v.Type())
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		return v.Len() == 0
	}
	return v.IsZero()
}

func intNode(n int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: strconv.FormatInt(n, 10)}
}

// guardedLabels are the labels of every object added for a workload.
func guardedLabels(workloadLabels map[string]string) map[string]string {
	labels := make(map[string]string, len(workloadLabels)+1)
	for k, v := range workloadLabels {
		labels[k] = v
	}
	labels[GeneratedByLabel] = GeneratedByValue
	return labels
}

func podDisruptionBudget(w *workload, maxUnavailable intOrPercent) desiredObject {
	return w.guardrail(podDisruptionBudgetType, podDisruptionBudgetSpec{
		MaxUnavailable: maxUnavailable,
		Selector:       labelSelector{MatchLabels: w.selector},
		// A pod that is not ready serves nothing: let a drain evict it.
		UnhealthyPodEvictionPolicy: "AlwaysAllow",
	})
}

var bothDirections = []string{"Ingress", "Egress"}

func defaultDeny(namespace, name string, labels map[string]string) desiredObject {
	return desiredObject{
		objectType: networkPolicyType,
		namespace:  namespace,
		name:       name,
		labels:     labels,
		spec:       networkPolicySpec{PodSelector: labelSelector{}, PolicyTypes: bothDirections},
		owner:      "the default deny of namespace " + strconv.Quote(namespace),
	}
}

// networkPolicy resolves the annotation's names against the config; every
// rule allows one declared port to declared peers only.
func networkPolicy(w *workload, n network, cfg NetworkPolicyConfig) (desiredObject, FieldErrors) {
	var errs FieldErrors
	field := annotationField(NetworkAnnotation)
	spec := networkPolicySpec{PodSelector: labelSelector{MatchLabels: w.selector}, PolicyTypes: bothDirections}

	for i, rule := range n.Ingress {
		in := networkPolicyIn{Ports: []networkPolicyPort{{Protocol: rule.Protocol, Port: rule.Port}}}
		for j, peer := range rule.From {
			if peer.Pods != nil {
				in.From = append(in.From, networkPolicyPeer{PodSelector: &labelSelector{MatchLabels: peer.Pods}})
				continue
			}
			namespace, known := cfg.Namespaces[peer.Namespace]
			if !known {
				errs.add(fmt.Sprintf("%s.ingress[%d].from[%d].namespace", field, i, j),
					"unknown namespace %q; %s", peer.Namespace,
					oneOf(sortedKeys(cfg.Namespaces), "none is configured: add it to the config's spec.networkPolicy.namespaces"))
				continue
			}
			in.From = append(in.From, networkPolicyPeer{NamespaceSelector: namespaceSelector(namespace)})
		}
		spec.Ingress = append(spec.Ingress, in)
	}

	spec.Egress = append(spec.Egress, networkPolicyTo{
		To: []networkPolicyPeer{{
			NamespaceSelector: namespaceSelector(cfg.DNS.Namespace),
			PodSelector:       &labelSelector{MatchLabels: cfg.DNS.Pods},
		}},
		Ports: []networkPolicyPort{{Protocol: "UDP", Port: cfg.DNS.Port}, {Protocol: "TCP", Port: cfg.DNS.Port}},
	})
	for i, rule := range n.Egress {
		if rule.Pods != nil {
			spec.Egress = append(spec.Egress, networkPolicyTo{
				To:    []networkPolicyPeer{{PodSelector: &labelSelector{MatchLabels: rule.Pods}}},
				Ports: []networkPolicyPort{{Protocol: rule.Protocol, Port: rule.Port}},
			})
			continue
		}
		endpoint, known := cfg.Endpoints[rule.Endpoint]
		if !known {
			errs.add(fmt.Sprintf("%s.egress[%d].endpoint", field, i), "unknown endpoint %q; %s", rule.Endpoint,
				oneOf(sortedKeys(cfg.Endpoints), "none is configured: add it to the config's spec.networkPolicy.endpoints"))
			continue
		}
		spec.Egress = append(spec.Egress, networkPolicyTo{
			To:    endpoint.peers(),
			Ports: []networkPolicyPort{{Protocol: endpoint.Protocol, Port: endpoint.Port}},
		})
	}
	return w.guardrail(networkPolicyType, spec), errs
}

func (e Endpoint) peers() []networkPolicyPeer {
	if len(e.CIDRs) > 0 {
		peers := make([]networkPolicyPeer, len(e.CIDRs))
		for i, cidr := range e.CIDRs {
			peers[i] = networkPolicyPeer{IPBlock: &ipBlock{CIDR: cidr}}
		}
		return peers
	}
	peer := networkPolicyPeer{PodSelector: &labelSelector{MatchLabels: e.Pods}}
	if e.Namespace != "" {
		peer.NamespaceSelector = namespaceSelector(e.Namespace)
	}
	return []networkPolicyPeer{peer}
}

// namespaceSelector selects by the label Kubernetes itself sets on every namespace.
func namespaceSelector(namespace string) *labelSelector {
	return &labelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace}}
}

// replicationLagQuery is the lag in bytes of one slot; the slot was checked
// against slotPattern, so it cannot break out of the quotes.
func replicationLagQuery(slot string) string {
	return "SELECT COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0) " +
		"FROM pg_replication_slots WHERE slot_name = '" + slot + "'"
}

// scaledObject scales a worker between 0 and 1: one consumer per slot is all
// PostgreSQL allows, and an idle slot needs no pod.
func scaledObject(w *workload, s scaling, keda KEDAConfig) desiredObject {
	return w.guardrail(scaledObjectType, scaledObjectSpec{
		ScaleTargetRef:  scaleTargetRef{APIVersion: "apps/v1", Kind: w.kind, Name: w.name},
		MinReplicaCount: 0,
		MaxReplicaCount: 1,
		PollingInterval: *keda.PollingInterval,
		CooldownPeriod:  *keda.CooldownPeriod,
		Triggers: []scaledObjectTrigger{{
			Type: "postgresql",
			Metadata: postgresqlTriggerMetadata{
				Host:                       s.Host,
				Port:                       strconv.Itoa(s.Port),
				DBName:                     s.Database,
				UserName:                   s.User,
				SSLMode:                    s.SSLMode,
				Query:                      replicationLagQuery(s.Slot),
				TargetQueryValue:           strconv.FormatInt(*keda.TargetLagBytes, 10),
				ActivationTargetQueryValue: strconv.FormatInt(*keda.ActivationLagBytes, 10),
			},
			AuthenticationRef: authenticationRef{Name: w.name},
		}},
	})
}

func triggerAuthentication(w *workload, s scaling) desiredObject {
	return w.guardrail(triggerAuthenticationType, triggerAuthenticationSpec{
		SecretTargetRef: []secretTargetRef{{Parameter: "password", Name: s.PasswordSecret.Name, Key: s.PasswordSecret.Key}},
	})
}
