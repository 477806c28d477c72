package servers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// catalogAnswer is an HTTP answer of the double, read whole.
type catalogAnswer struct {
	status int
	header http.Header
	body   []byte
}

// callCatalog makes a real HTTP request; contentType "" sends none.
func callCatalog(t *testing.T, method, url, contentType, body string, header ...string) catalogAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("building %s %s: %v", method, url, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer to %s %s: %v", method, url, err)
	}
	return catalogAnswer{resp.StatusCode, resp.Header, b}
}

func postCatalog(t *testing.T, url, body string) catalogAnswer {
	t.Helper()
	return callCatalog(t, http.MethodPost, url, "application/json", body)
}

func getCatalog(t *testing.T, url string, header ...string) catalogAnswer {
	t.Helper()
	return callCatalog(t, http.MethodGet, url, "", "", header...)
}

// decodeAnswer reads a JSON answer into v.
func decodeAnswer(t *testing.T, a catalogAnswer, v any) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("want Content-Type application/json, got %q (body %s)", ct, a.body)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("want a JSON body, got %s: %v", a.body, err)
	}
}

// expectCatalogError checks that a is the release's error body with the status and type given.
func expectCatalogError(t *testing.T, a catalogAnswer, status int, typ string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    int
			Message string
			Type    string
		}
	}
	decodeAnswer(t, a, &e)
	if a.status != status || e.Error.Code != status || e.Error.Type != typ || e.Error.Message == "" {
		t.Fatalf("want status %d with error code %d, type %q and a message, got status %d and body %s",
			status, status, typ, a.status, a.body)
	}
}

// warehouseRequest is a create request like the bootstrap script's; keyPrefix "" leaves it out.
func warehouseRequest(name, bucket, keyPrefix string) string {
	prefix := ""
	if keyPrefix != "" {
		prefix = fmt.Sprintf(`"key-prefix":%q,`, keyPrefix)
	}
	return fmt.Sprintf(`{"warehouse-name":%q,"storage-profile":{"type":"s3","bucket":%q,%s"region":"us-east-1",`+
		`"endpoint":"http://philotes-object-store:8333","path-style-access":true,"flavor":"s3-compat","sts-enabled":false},`+
		`"storage-credential":{"type":"s3","credential-type":"access-key","aws-access-key-id":"AKIDTEST","aws-secret-access-key":"SECRETTEST"}}`,
		name, bucket, prefix)
}

var warehouseIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// startBootstrapped starts a double and bootstraps its catalog.
func startBootstrapped(t *testing.T) *Lakekeeper {
	t.Helper()
	l := StartLakekeeper(t)
	if a := postCatalog(t, l.URL+"/management/v1/bootstrap", `{"accept-terms-of-use":true}`); a.status != http.StatusNoContent {
		t.Fatalf("want the first bootstrap answered 204, got %d: %s", a.status, a.body)
	}
	return l
}

// mustCreateWarehouse creates a warehouse and returns its id.
func mustCreateWarehouse(t *testing.T, l *Lakekeeper, body string) string {
	t.Helper()
	a := postCatalog(t, l.URL+"/management/v1/warehouse", body)
	var created struct {
		WarehouseID string `json:"warehouse-id"`
	}
	decodeAnswer(t, a, &created)
	if a.status != http.StatusCreated || !warehouseIDPattern.MatchString(created.WarehouseID) {
		t.Fatalf("want 201 with a random UUID as warehouse-id, got %d: %s", a.status, a.body)
	}
	return created.WarehouseID
}

func TestLakekeeperHealth(t *testing.T) {
	l := StartLakekeeper(t)
	a := getCatalog(t, l.URL+"/health")
	var health map[string]any
	decodeAnswer(t, a, &health)
	if a.status != http.StatusOK || health["health"] != "ok" {
		t.Fatalf(`want 200 {"health":"ok",...}, got %d: %s`, a.status, a.body)
	}
	expectCatalogError(t, postCatalog(t, l.URL+"/health", "{}"), http.StatusMethodNotAllowed, "MethodNotAllowed")
}

func TestLakekeeperBootstrap(t *testing.T) {
	l := StartLakekeeper(t)
	url := l.URL + "/management/v1/bootstrap"
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		typ                     string
	}{
		{"no JSON content type", "application/x-www-form-urlencoded", `{"accept-terms-of-use":true}`, http.StatusUnsupportedMediaType, "UnsupportedMediaType"},
		{"not JSON", "application/json", `accept-terms-of-use=true`, http.StatusBadRequest, "InvalidJSON"},
		{"terms missing", "application/json", `{}`, http.StatusUnprocessableEntity, "InvalidBody"},
		{"terms a string", "application/json", `{"accept-terms-of-use":"yes"}`, http.StatusUnprocessableEntity, "InvalidBody"},
		{"terms refused", "application/json", `{"accept-terms-of-use":false}`, http.StatusBadRequest, "TermsOfUseNotAccepted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectCatalogError(t, callCatalog(t, http.MethodPost, url, tc.contentType, tc.body), tc.status, tc.typ)
			if l.Bootstrapped() {
				t.Fatal("want the catalog not bootstrapped by a refused request, it is")
			}
		})
	}

	a := postCatalog(t, url, `{"accept-terms-of-use": true}`)
	if a.status != http.StatusNoContent || len(a.body) != 0 || !l.Bootstrapped() {
		t.Fatalf("want the first bootstrap answered 204 without a body and the catalog bootstrapped, got %d: %q (bootstrapped %v)",
			a.status, a.body, l.Bootstrapped())
	}
	for range 2 {
		expectCatalogError(t, postCatalog(t, url, `{"accept-terms-of-use": true}`), http.StatusBadRequest, "CatalogAlreadyBootstrapped")
	}
	expectCatalogError(t, getCatalog(t, url), http.StatusMethodNotAllowed, "MethodNotAllowed")
}

func TestLakekeeperWarehouseBeforeBootstrap(t *testing.T) {
	l := StartLakekeeper(t)
	a := postCatalog(t, l.URL+"/management/v1/warehouse", warehouseRequest("philotes", "philotes", "warehouse"))
	expectCatalogError(t, a, http.StatusNotFound, "ProjectNotFound")
	if w := l.Warehouses(); len(w) != 0 {
		t.Fatalf("want no warehouse created before the bootstrap, got %+v", w)
	}
}

func TestLakekeeperCreateAndListWarehouse(t *testing.T) {
	l := startBootstrapped(t)
	id := mustCreateWarehouse(t, l, warehouseRequest("philotes", "philotes", "warehouse"))

	want := Warehouse{ID: id, Name: "philotes", ProjectID: defaultProjectID, AccessKeyID: "AKIDTEST", StorageProfile: map[string]any{
		"type": "s3", "bucket": "philotes", "key-prefix": "warehouse", "region": "us-east-1",
		"endpoint": "http://philotes-object-store:8333", "path-style-access": true, "flavor": "s3-compat", "sts-enabled": false,
	}}
	got := l.Warehouses()
	if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("want Warehouses() to be [%+v], got %+v", want, got)
	}

	a := getCatalog(t, l.URL+"/management/v1/warehouse")
	for _, secret := range []string{"AKIDTEST", "SECRETTEST", "credential"} {
		if strings.Contains(string(a.body), secret) {
			t.Fatalf("want no storage credential in the warehouse list, found %q in %s", secret, a.body)
		}
	}
	var list struct {
		Warehouses []map[string]any
	}
	decodeAnswer(t, a, &list)
	wantItem := map[string]any{"id": id, "name": "philotes", "project-id": defaultProjectID, "storage-profile": want.StorageProfile,
		"delete-profile": map[string]any{"type": "hard"}, "status": "active", "protected": false}
	if a.status != http.StatusOK || len(list.Warehouses) != 1 || fmt.Sprint(list.Warehouses[0]) != fmt.Sprint(wantItem) {
		t.Fatalf("want 200 with the one warehouse %v, got %d: %s", wantItem, a.status, a.body)
	}
}

func TestLakekeeperCreateWarehouseRefusals(t *testing.T) {
	l := startBootstrapped(t)
	mustCreateWarehouse(t, l, warehouseRequest("philotes", "philotes", "warehouse"))
	url := l.URL + "/management/v1/warehouse"

	// The rows share the double and run in order: those that succeed add a warehouse.
	for _, tc := range []struct {
		name, body string
		status     int
		typ        string // of the error; "" for a creation
	}{
		{"same name and location", warehouseRequest("philotes", "philotes", "warehouse"), http.StatusBadRequest, "CreateWarehouseStorageProfileOverlap"},
		{"same name elsewhere", warehouseRequest("philotes", "philotes", "other"), http.StatusConflict, "WarehouseNameAlreadyExists"},
		{"same location with slashes", warehouseRequest("second", "philotes", "/warehouse/"), http.StatusBadRequest, "CreateWarehouseStorageProfileOverlap"},
		{"location inside", warehouseRequest("second", "philotes", "warehouse/inner"), http.StatusBadRequest, "CreateWarehouseStorageProfileOverlap"},
		{"whole bucket", warehouseRequest("second", "philotes", ""), http.StatusBadRequest, "CreateWarehouseStorageProfileOverlap"},
		{"prefix sharing only characters", warehouseRequest("second", "philotes", "warehouse2"), http.StatusCreated, ""},
		{"other bucket", warehouseRequest("third", "other", "warehouse"), http.StatusCreated, ""},
		{"same location in another project", strings.Replace(warehouseRequest("philotes", "philotes", "warehouse"), "{", `{"project-id":"other",`, 1), http.StatusCreated, ""},
		{"empty name", warehouseRequest("", "fresh", ""), http.StatusBadRequest, "EmptyWarehouseName"},
		{"name missing", `{"storage-profile":{"type":"s3","bucket":"fresh","region":"us-east-1","sts-enabled":false}}`, http.StatusUnprocessableEntity, "InvalidBody"},
		{"storage profile missing", `{"warehouse-name":"fresh"}`, http.StatusUnprocessableEntity, "InvalidBody"},
		{"storage type not s3", `{"warehouse-name":"fresh","storage-profile":{"type":"s4","bucket":"fresh","region":"us-east-1","sts-enabled":false}}`, http.StatusUnprocessableEntity, "InvalidBody"},
		{"region missing", `{"warehouse-name":"fresh","storage-profile":{"type":"s3","bucket":"fresh","sts-enabled":false}}`, http.StatusUnprocessableEntity, "InvalidBody"},
		{"sts-enabled missing", `{"warehouse-name":"fresh","storage-profile":{"type":"s3","bucket":"fresh","region":"us-east-1"}}`, http.StatusUnprocessableEntity, "InvalidBody"},
		{"unknown flavor", strings.Replace(warehouseRequest("fresh", "fresh", ""), `"s3-compat"`, `"gcs"`, 1), http.StatusUnprocessableEntity, "InvalidBody"},
		{"unknown credential type", strings.Replace(warehouseRequest("fresh", "fresh", ""), `"access-key"`, `"password"`, 1), http.StatusUnprocessableEntity, "InvalidBody"},
		{"secret key missing", strings.Replace(warehouseRequest("fresh", "fresh", ""), `,"aws-secret-access-key":"SECRETTEST"`, "", 1), http.StatusUnprocessableEntity, "InvalidBody"},
		{"unknown delete profile", strings.Replace(warehouseRequest("fresh", "fresh", ""), "{", `{"delete-profile":{"type":"soft"},`, 1), http.StatusUnprocessableEntity, "InvalidBody"},
		{"unknown field", strings.Replace(warehouseRequest("fresh", "fresh", ""), "{", `{"warehouse_name":"fresh",`, 1), http.StatusBadRequest, "UnknownField"},
		{"unknown profile field", strings.Replace(warehouseRequest("fresh", "fresh", ""), `"bucket"`, `"key_prefix":"x","bucket"`, 1), http.StatusBadRequest, "UnknownField"},
		{"endpoint not http", strings.Replace(warehouseRequest("fresh", "fresh", ""), "http://", "ftp://", 1), http.StatusBadRequest, "InvalidS3Endpoint"},
		{"endpoint with a path", strings.Replace(warehouseRequest("fresh", "fresh", ""), ":8333", ":8333/s3", 1), http.StatusBadRequest, "InvalidS3Endpoint"},
		{"sts on aws without a role", strings.NewReplacer(`"s3-compat"`, `"aws"`, `"sts-enabled":false`, `"sts-enabled":true`).Replace(warehouseRequest("fresh", "fresh", "")), http.StatusBadRequest, "Invalidsts-role-arn"},
		{"not JSON", `{"warehouse-name":`, http.StatusBadRequest, "InvalidJSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := postCatalog(t, url, tc.body)
			if tc.typ == "" {
				if a.status != tc.status {
					t.Fatalf("want %d, got %d: %s", tc.status, a.status, a.body)
				}
				return
			}
			expectCatalogError(t, a, tc.status, tc.typ)
		})
	}
	expectCatalogError(t, callCatalog(t, http.MethodPost, url, "text/plain", warehouseRequest("fresh", "fresh", "")), http.StatusUnsupportedMediaType, "UnsupportedMediaType")
	expectCatalogError(t, callCatalog(t, http.MethodDelete, url, "", ""), http.StatusMethodNotAllowed, "MethodNotAllowed")

	var names []string
	for _, w := range l.Warehouses() {
		names = append(names, w.ProjectID+"/"+w.Name)
	}
	want := []string{defaultProjectID + "/philotes", defaultProjectID + "/second", defaultProjectID + "/third", "other/philotes"}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Fatalf("want only the accepted warehouses %v, got %v", want, names)
	}
}

func TestLakekeeperListWarehousesByProject(t *testing.T) {
	l := startBootstrapped(t)
	mustCreateWarehouse(t, l, warehouseRequest("b", "b", ""))
	mustCreateWarehouse(t, l, warehouseRequest("a", "a", ""))
	mustCreateWarehouse(t, l, strings.Replace(warehouseRequest("c", "c", ""), "{", `{"project-id":"other",`, 1))
	url := l.URL + "/management/v1/warehouse"
	for _, tc := range []struct {
		name   string
		answer catalogAnswer
		want   []string
	}{
		{"default project, sorted by name", getCatalog(t, url), []string{"a", "b"}},
		{"projectId query", getCatalog(t, url+"?projectId=other"), []string{"c"}},
		{"x-project-id header", getCatalog(t, url, "x-project-id", "other"), []string{"c"}},
		{"project-id query, ignored by the release", getCatalog(t, url+"?project-id=other"), []string{"a", "b"}},
		{"unknown project", getCatalog(t, url+"?projectId=none"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var list struct{ Warehouses []struct{ Name string } }
			decodeAnswer(t, tc.answer, &list)
			var names []string
			for _, w := range list.Warehouses {
				names = append(names, w.Name)
			}
			if tc.answer.status != http.StatusOK || !slices.Equal(names, tc.want) {
				t.Fatalf("want 200 listing %v, got %d: %s", tc.want, tc.answer.status, tc.answer.body)
			}
		})
	}
}

func TestLakekeeperCatalogPrefix(t *testing.T) {
	l := startBootstrapped(t)
	id := mustCreateWarehouse(t, l, warehouseRequest("philotes", "philotes", "warehouse"))
	for _, tc := range []struct {
		name, method, path string
		status             int
		typ                string // of the error; "" for the namespace list
	}{
		{"warehouse id", http.MethodGet, "/catalog/v1/" + id + "/namespaces", http.StatusOK, ""},
		{"warehouse id in capitals", http.MethodGet, "/catalog/v1/" + strings.ToUpper(id) + "/namespaces", http.StatusOK, ""},
		{"warehouse id without hyphens", http.MethodGet, "/catalog/v1/" + strings.ReplaceAll(id, "-", "") + "/namespaces", http.StatusOK, ""},
		// With the allowall authorizer the release lists the namespaces of any id, none for an unknown one.
		{"unknown warehouse id", http.MethodGet, "/catalog/v1/8c6f3d52-2b7e-4a61-9d0c-51f1e7a2b3c4/namespaces", http.StatusOK, ""},
		{"warehouse name", http.MethodGet, "/catalog/v1/philotes/namespaces", http.StatusBadRequest, "PrefixIsNotWarehouseID"},
		{"truncated id", http.MethodGet, "/catalog/v1/" + id[:35] + "/namespaces", http.StatusBadRequest, "PrefixIsNotWarehouseID"},
		{"path the double does not serve", http.MethodGet, "/catalog/v1/" + id + "/namespaces/x/tables", http.StatusNotFound, "NotFound"},
		{"wrong method", http.MethodDelete, "/catalog/v1/" + id + "/namespaces", http.StatusMethodNotAllowed, "MethodNotAllowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := callCatalog(t, tc.method, l.URL+tc.path, "", "")
			if tc.typ != "" {
				expectCatalogError(t, a, tc.status, tc.typ)
				return
			}
			var list map[string]any
			decodeAnswer(t, a, &list)
			if a.status != tc.status || fmt.Sprint(list) != "map[namespaces:[]]" {
				t.Fatalf(`want %d {"namespaces": []}, got %d: %s`, tc.status, a.status, a.body)
			}
		})
	}

	var e struct{ Error struct{ Message string } }
	decodeAnswer(t, getCatalog(t, l.URL+"/catalog/v1/philotes/namespaces"), &e)
	if want := "Provided prefix is not a warehouse id. Expected UUID, got: philotes"; e.Error.Message != want {
		t.Fatalf("want the message %q, got %q", want, e.Error.Message)
	}
}

func TestLakekeeperConfig(t *testing.T) {
	l := startBootstrapped(t)
	id := mustCreateWarehouse(t, l, warehouseRequest("philotes", "philotes", "warehouse"))
	url := l.URL + "/catalog/v1/config"

	a := getCatalog(t, url+"?warehouse=philotes")
	var config struct {
		Defaults, Overrides map[string]string
	}
	decodeAnswer(t, a, &config)
	if a.status != http.StatusOK || config.Defaults["prefix"] != id || config.Overrides == nil {
		t.Fatalf("want 200 with defaults.prefix %s and overrides, got %d: %s", id, a.status, a.body)
	}
	expectCatalogError(t, getCatalog(t, url), http.StatusBadRequest, "GetConfigNoWarehouseProvided")
	expectCatalogError(t, getCatalog(t, url+"?warehouse=unknown"), http.StatusNotFound, "WarehouseNotFound")
	expectCatalogError(t, getCatalog(t, url+"?warehouse=philotes", "x-project-id", "other"), http.StatusNotFound, "WarehouseNotFound")
	expectCatalogError(t, postCatalog(t, url+"?warehouse=philotes", "{}"), http.StatusMethodNotAllowed, "MethodNotAllowed")
}

func TestLakekeeperUnknownPathAndRequests(t *testing.T) {
	l := StartLakekeeper(t)
	for _, path := range []string{"/", "/management/v1/project", "/management/v1/warehouse/", "/catalog/v2/config"} {
		expectCatalogError(t, getCatalog(t, l.URL+path), http.StatusNotFound, "NotFound")
	}
	want := []string{"GET /", "GET /management/v1/project", "GET /management/v1/warehouse/", "GET /catalog/v2/config"}
	getCatalog(t, l.URL+"/health?probe=1")
	want = append(want, "GET /health")
	if got := l.Requests(); !slices.Equal(got, want) {
		t.Fatalf("want Requests() %q, got %q", want, got)
	}
}
