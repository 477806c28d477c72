package servers

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// defaultProjectID is the project of requests that name none (no project-id, no x-project-id
// header): the release's default project is the nil UUID, created by the bootstrap.
const defaultProjectID = "00000000-0000-0000-0000-000000000000"

// Lakekeeper is the test double of the Lakekeeper Iceberg REST catalog v0.9.5 (authorization
// backend allowall, the chart's default) that the catalog bootstrap script runs against, because
// Lakekeeper itself cannot run on this machine. It answers the few calls the script and its tests
// make as the release does, and 404 to everything else, so that a script calling something the
// double does not know fails instead of passing against a guess. It listens on 127.0.0.1 and is
// stopped by the test's cleanup. It keeps no storage credential in its answers and never contacts
// the object store (the release checks that it can write to the bucket before creating a warehouse).
type Lakekeeper struct {
	// URL is the base URL of the double, without a trailing slash, e.g. http://127.0.0.1:34567.
	URL string

	mu           sync.Mutex // guards the fields below: the server answers on several goroutines
	bootstrapped bool
	warehouses   []warehouseRecord
	requests     []string
}

// Warehouse is a warehouse the double holds, for assertions on what the script created.
type Warehouse struct {
	ID             string
	Name           string
	ProjectID      string
	StorageProfile map[string]any // as the request sent it
	AccessKeyID    string         // of the storage credential; the secret key is not kept
}

type warehouseRecord struct {
	Warehouse
	location      s3Location
	deleteProfile deleteProfile
}

// s3Location is what the release compares to refuse a warehouse whose storage another one uses.
type s3Location struct {
	bucket, region, endpoint string
	keyPrefix                *string // without leading or trailing "/"; nil for the whole bucket
}

type createWarehouseRequest struct {
	WarehouseName     *string        `json:"warehouse-name"`
	ProjectID         *string        `json:"project-id"`
	StorageProfile    *s3Profile     `json:"storage-profile"`
	StorageCredential *s3Credential  `json:"storage-credential"`
	DeleteProfile     *deleteProfile `json:"delete-profile"`
}

// s3Profile lists every field of the release's S3 profile, so that the strict decoding below only
// refuses names the release does not know; nil pointers are fields the request left out.
type s3Profile struct {
	Type                      *string `json:"type,omitempty"`
	Bucket                    *string `json:"bucket,omitempty"`
	KeyPrefix                 *string `json:"key-prefix,omitempty"`
	AssumeRoleARN             *string `json:"assume-role-arn,omitempty"`
	Endpoint                  *string `json:"endpoint,omitempty"`
	Region                    *string `json:"region,omitempty"`
	PathStyleAccess           *bool   `json:"path-style-access,omitempty"`
	STSRoleARN                *string `json:"sts-role-arn,omitempty"`
	STSEnabled                *bool   `json:"sts-enabled,omitempty"`
	STSTokenValiditySeconds   *uint64 `json:"sts-token-validity-seconds,omitempty"`
	Flavor                    *string `json:"flavor,omitempty"`
	AllowAlternativeProtocols *bool   `json:"allow-alternative-protocols,omitempty"`
	RemoteSigningURLStyle     *string `json:"remote-signing-url-style,omitempty"`
	S3URLDetectionMode        *string `json:"s3-url-detection-mode,omitempty"`
	PushS3DeleteDisabled      *bool   `json:"push-s3-delete-disabled,omitempty"`
	AWSKMSKeyARN              *string `json:"aws-kms-key-arn,omitempty"`
}

type s3Credential struct {
	Type            string  `json:"type"`
	CredentialType  string  `json:"credential-type"`
	AccessKeyID     *string `json:"aws-access-key-id"`
	SecretAccessKey *string `json:"aws-secret-access-key"`
	ExternalID      *string `json:"external-id"`
}

type deleteProfile struct {
	Type              string `json:"type"`
	ExpirationSeconds *int64 `json:"expiration-seconds,omitempty"`
}

// StartLakekeeper starts a double with an empty, unbootstrapped catalog. httptest.NewServer binds
// 127.0.0.1, so nothing outside the machine reaches it.
func StartLakekeeper(tb testing.TB) *Lakekeeper {
	tb.Helper()
	l := &Lakekeeper{}
	server := httptest.NewServer(http.HandlerFunc(l.serve))
	tb.Cleanup(server.Close)
	l.URL = server.URL
	return l
}

// Warehouses returns a copy of the warehouses, sorted by name, so that tests can read them while
// the double keeps answering.
func (l *Lakekeeper) Warehouses() []Warehouse {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Warehouse, 0, len(l.warehouses))
	for _, r := range l.warehouses {
		w := r.Warehouse
		w.StorageProfile = maps.Clone(w.StorageProfile) // flat: its values are JSON scalars
		out = append(out, w)
	}
	return out
}

// Bootstrapped reports whether a bootstrap request succeeded.
func (l *Lakekeeper) Bootstrapped() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bootstrapped
}

// Requests returns "METHOD path" (without the query) of every request received, in order, so that
// tests can assert which calls the script made.
func (l *Lakekeeper) Requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.requests)
}

func (l *Lakekeeper) serve(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.requests = append(l.requests, r.Method+" "+r.URL.Path)
	l.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/health":
		if allowMethods(w, r, http.MethodGet) {
			writeCatalogJSON(w, http.StatusOK, map[string]any{"health": "ok", "services": map[string]any{}})
		}
	case p == "/management/v1/bootstrap":
		if allowMethods(w, r, http.MethodPost) {
			l.bootstrap(w, r)
		}
	case p == "/management/v1/warehouse" && r.Method == http.MethodPost:
		l.createWarehouse(w, r)
	case p == "/management/v1/warehouse":
		if allowMethods(w, r, http.MethodGet, http.MethodPost) {
			l.listWarehouses(w, r)
		}
	case p == "/catalog/v1/config":
		if allowMethods(w, r, http.MethodGet) {
			l.config(w, r)
		}
	case strings.HasPrefix(p, "/catalog/v1/"):
		l.catalog(w, r, strings.TrimPrefix(p, "/catalog/v1/"))
	default:
		writeCatalogError(w, http.StatusNotFound, "NotFound", "No route for "+r.Method+" "+p)
	}
}

func (l *Lakekeeper) bootstrap(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AcceptTermsOfUse *bool `json:"accept-terms-of-use"`
	}
	if !decodeBody(w, r, &req, false) {
		return
	}
	if req.AcceptTermsOfUse == nil {
		writeUnprocessableBody(w, "missing field `accept-terms-of-use`")
		return
	}
	if !*req.AcceptTermsOfUse {
		writeCatalogError(w, http.StatusBadRequest, "TermsOfUseNotAccepted", "You must accept the terms of use to bootstrap the catalog.")
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bootstrapped {
		writeCatalogError(w, http.StatusBadRequest, "CatalogAlreadyBootstrapped", "Catalog already bootstrapped")
		return
	}
	l.bootstrapped = true
	w.WriteHeader(http.StatusNoContent)
}

func (l *Lakekeeper) createWarehouse(w http.ResponseWriter, r *http.Request) {
	var req createWarehouseRequest
	if !decodeBody(w, r, &req, true) {
		return
	}
	if msg := req.missing(); msg != "" {
		writeUnprocessableBody(w, msg)
		return
	}
	switch name := *req.WarehouseName; {
	case name == "":
		writeCatalogError(w, http.StatusBadRequest, "EmptyWarehouseName", "Warehouse name cannot be empty")
		return
	case len(name) > 128:
		writeCatalogError(w, http.StatusBadRequest, "WarehouseNameTooLong", "Warehouse must be shorter than 128 chars")
		return
	}
	loc, typ, msg := req.StorageProfile.location()
	if typ != "" {
		writeCatalogError(w, http.StatusBadRequest, typ, msg)
		return
	}
	project := projectOf(r, req.ProjectID)
	profile := map[string]any{}
	raw, _ := json.Marshal(req.StorageProfile)
	_ = json.Unmarshal(raw, &profile)
	rec := warehouseRecord{Warehouse: Warehouse{ID: newCatalogUUID(), Name: *req.WarehouseName, ProjectID: project, StorageProfile: profile},
		location: loc, deleteProfile: deleteProfile{Type: "hard"}}
	if req.StorageCredential != nil {
		rec.AccessKeyID = *req.StorageCredential.AccessKeyID
	}
	if d := req.DeleteProfile; d != nil && d.Type == "soft" {
		rec.deleteProfile = *d
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	// The release's order: the overlap check (within the project) comes before the insert, whose
	// constraints give "project not found" and "name taken". So a second creation of the same
	// warehouse answers 400 overlap, not 409.
	for _, other := range l.warehouses {
		if other.ProjectID == project && loc.overlaps(other.location) {
			writeCatalogError(w, http.StatusBadRequest, "CreateWarehouseStorageProfileOverlap",
				"Storage profile overlaps with existing warehouse "+other.Name)
			return
		}
	}
	// The release creates the default project during the bootstrap, so before it the warehouse's
	// project does not exist. After it the double takes every project as existing: the release
	// needs other projects created with POST /management/v1/project, which the double does not serve.
	if !l.bootstrapped {
		writeCatalogError(w, http.StatusNotFound, "ProjectNotFound", "Project not found")
		return
	}
	for _, other := range l.warehouses {
		if other.ProjectID == project && other.Name == rec.Name {
			writeCatalogError(w, http.StatusConflict, "WarehouseNameAlreadyExists", "Warehouse with this name already exists in the project.")
			return
		}
	}
	i, _ := slices.BinarySearchFunc(l.warehouses, rec.Name, func(r warehouseRecord, name string) int { return strings.Compare(r.Name, name) })
	l.warehouses = slices.Insert(l.warehouses, i, rec) // kept sorted by name
	writeCatalogJSON(w, http.StatusCreated, map[string]string{"warehouse-id": rec.ID})
}

// missing names what the release's deserialization refuses (answered 422), or is empty.
func (req *createWarehouseRequest) missing() string {
	p, c, d := req.StorageProfile, req.StorageCredential, req.DeleteProfile
	switch {
	case req.WarehouseName == nil:
		return "missing field `warehouse-name`"
	case p == nil:
		return "missing field `storage-profile`"
	case p.Type == nil || *p.Type != "s3": // the double knows no other storage than S3
		return "storage-profile: unknown or missing variant `type`, expected `s3`"
	case p.Bucket == nil || p.Region == nil || p.STSEnabled == nil:
		return "storage-profile: missing field `bucket`, `region` or `sts-enabled`"
	case p.Flavor != nil && !slices.Contains([]string{"aws", "s3-compat", "minio"}, *p.Flavor):
		return "storage-profile: unknown variant `" + *p.Flavor + "`, expected `aws` or `s3-compat`"
	case c != nil && (c.Type != "s3" || c.CredentialType != "access-key"): // the only kind the double knows
		return "storage-credential: expected type `s3` with credential-type `access-key`"
	case c != nil && (c.AccessKeyID == nil || c.SecretAccessKey == nil):
		return "storage-credential: missing field `aws-access-key-id` or `aws-secret-access-key`"
	case d != nil && d.Type != "hard" && (d.Type != "soft" || d.ExpirationSeconds == nil):
		return "delete-profile: expected type `hard`, or `soft` with `expiration-seconds`"
	}
	if p.Endpoint != nil {
		if u, err := url.Parse(*p.Endpoint); err != nil || u.Scheme == "" {
			return "storage-profile: invalid URL `endpoint`"
		}
	}
	return ""
}

// location normalizes the profile as the release does, or returns the error type and message of
// a profile it refuses (the release's bucket and region name rules are not checked).
func (p *s3Profile) location() (loc s3Location, typ, msg string) {
	loc = s3Location{bucket: *p.Bucket, region: *p.Region}
	if p.KeyPrefix != nil {
		if k := strings.Trim(*p.KeyPrefix, "/"); k != "" {
			loc.keyPrefix = &k
		}
	}
	if p.Endpoint != nil {
		u, _ := url.Parse(*p.Endpoint)
		if u.Scheme != "http" && u.Scheme != "https" {
			return loc, "InvalidS3Endpoint", "Storage Profile `endpoint` must have http or https protocol."
		}
		if path := strings.TrimRight(strings.TrimSuffix(u.Path, *p.Bucket), "/"); path != "" {
			return loc, "InvalidS3Endpoint", "Storage Profile `endpoint` must not have a path."
		}
		loc.endpoint = u.Scheme + "://" + strings.ToLower(u.Host) + "/"
	}
	aws := p.Flavor == nil || *p.Flavor == "aws"
	if *p.STSEnabled && aws && p.STSRoleARN == nil && p.AssumeRoleARN == nil {
		return loc, "Invalidsts-role-arn", "Either `sts-role-arn` or `assume-role-arn` is required for Storage Profiles with AWS flavor if STS is enabled."
	}
	return loc, "", ""
}

// overlaps is the release's rule: the same bucket, region and endpoint, and key prefixes of which
// one contains the other (a profile without a prefix uses the whole bucket).
func (a s3Location) overlaps(b s3Location) bool {
	if a.bucket != b.bucket || a.region != b.region || a.endpoint != b.endpoint {
		return false
	}
	if a.keyPrefix == nil || b.keyPrefix == nil {
		return true
	}
	ka, kb := *a.keyPrefix+"/", *b.keyPrefix+"/"
	return strings.HasPrefix(ka, kb) || strings.HasPrefix(kb, ka)
}

// listWarehouses answers the warehouses of one project. The release reads the project from the
// query parameter projectId (camelCase, unlike its bodies) and ignores project-id.
func (l *Lakekeeper) listWarehouses(w http.ResponseWriter, r *http.Request) {
	project := projectOf(r, nil)
	if q := r.URL.Query(); q.Has("projectId") {
		project = q.Get("projectId")
	}
	list := []map[string]any{}
	l.mu.Lock()
	for _, wh := range l.warehouses { // sorted by name; their maps are never changed
		if wh.ProjectID == project {
			list = append(list, map[string]any{"id": wh.ID, "name": wh.Name, "project-id": wh.ProjectID,
				"storage-profile": wh.StorageProfile, "delete-profile": wh.deleteProfile,
				"status": "active", "protected": false})
		}
	}
	l.mu.Unlock()
	writeCatalogJSON(w, http.StatusOK, map[string]any{"warehouses": list})
}

// config looks the warehouse up by name in the request's project; the release also takes
// "<project-id>/<name>", which the double does not.
func (l *Lakekeeper) config(w http.ResponseWriter, r *http.Request) {
	if !r.URL.Query().Has("warehouse") {
		writeCatalogError(w, http.StatusBadRequest, "GetConfigNoWarehouseProvided",
			"No warehouse specified. Please specify the 'warehouse' parameter in the GET /config request.")
		return
	}
	name, project := r.URL.Query().Get("warehouse"), projectOf(r, nil)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, wh := range l.warehouses {
		if wh.Name == name && wh.ProjectID == project {
			writeCatalogJSON(w, http.StatusOK, map[string]any{
				"defaults":  map[string]string{"prefix": wh.ID, "rest-page-size": "100"},
				"overrides": map[string]string{"uri": "http://" + r.Host + "/catalog"},
			})
			return
		}
	}
	writeCatalogError(w, http.StatusNotFound, "WarehouseNotFound", "Warehouse "+name+" not found")
}

// uuidForms are the spellings the release's UUID parser accepts (lower-cased here).
var uuidForms = regexp.MustCompile(`^(?:[0-9a-f]{32}|(urn:uuid:|\{)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?)$`)

// catalog serves /catalog/v1/{prefix}/...: the release takes the prefix as the warehouse id and
// refuses anything else, a warehouse name included. With the allowall authorizer it does not check
// that the warehouse exists to list namespaces: an unknown id lists none.
func (l *Lakekeeper) catalog(w http.ResponseWriter, r *http.Request, rest string) {
	prefix, sub, _ := strings.Cut(rest, "/")
	lower := strings.ToLower(prefix)
	if m := uuidForms.FindStringSubmatch(lower); m == nil || (m[1] == "{") != strings.HasSuffix(lower, "}") {
		writeCatalogError(w, http.StatusBadRequest, "PrefixIsNotWarehouseID",
			"Provided prefix is not a warehouse id. Expected UUID, got: "+prefix)
		return
	}
	if sub != "namespaces" {
		writeCatalogError(w, http.StatusNotFound, "NotFound", "No route for "+r.Method+" "+r.URL.Path)
		return
	}
	if allowMethods(w, r, http.MethodGet) {
		writeCatalogJSON(w, http.StatusOK, map[string]any{"namespaces": []any{}})
	}
}

// projectOf is the project a request names: its own field, else the
// x-project-id header, else the default project.
func projectOf(r *http.Request, explicit *string) string {
	switch {
	case explicit != nil:
		return *explicit
	case r.Header.Get("x-project-id") != "":
		return r.Header.Get("x-project-id")
	}
	return defaultProjectID
}

// allowMethods answers 405 unless the request uses one of methods (GET includes HEAD, as in the release).
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) || (r.Method == http.MethodHead && slices.Contains(methods, http.MethodGet)) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeCatalogError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path)
	return false
}

// decodeBody reads the JSON body into v as the release's request extractor does: 415 without a
// JSON Content-Type, 400 for text that is not JSON, 422 for JSON of the wrong shape (the release
// answers these three in plain text; the double keeps its JSON error body). With strict, a field
// the release does not know answers 400: the release ignores it, the double refuses it on purpose
// so that a misspelt field fails the test instead of being dropped without a word.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, strict bool) bool {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" && !(strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")) {
		writeCatalogError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Expected request with `Content-Type: application/json`")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || !json.Valid(body) {
		writeCatalogError(w, http.StatusBadRequest, "InvalidJSON", "Failed to parse the request body as JSON")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			writeCatalogError(w, http.StatusBadRequest, "UnknownField", "The double refuses "+err.Error())
		} else {
			writeUnprocessableBody(w, err.Error())
		}
		return false
	}
	return true
}

func writeUnprocessableBody(w http.ResponseWriter, msg string) {
	writeCatalogError(w, http.StatusUnprocessableEntity, "InvalidBody", "Failed to deserialize the JSON body into the target type: "+msg)
}

// writeCatalogError answers the release's error body; its stack holds an error id, as in the release.
func writeCatalogError(w http.ResponseWriter, code int, typ, msg string) {
	writeCatalogJSON(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": msg, "type": typ, "stack": []string{newCatalogUUID()},
	}})
}

func writeCatalogJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// newCatalogUUID returns a random (version 4) UUID for a warehouse or an error id. The release's
// warehouse ids are version 1 (PostgreSQL uuid_generate_v1mc): a client must take either.
func newCatalogUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
