package servers

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/janovincze/philotes-deploy/internal/testsupport/process"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// S3 is a SeaweedFS server (master, volume, filer and S3 gateway in one process) for one
// test, with one identity allowed everything.
type S3 struct {
	// URL is the S3 endpoint, http://127.0.0.1:<port>.
	URL string
	// Endpoint is the same as host:port, the form Philotes' worker takes.
	Endpoint             string
	AccessKey, SecretKey string
}

// StartSeaweedFS runs the pinned weed binary (`make runtime-deps` builds it) on 127.0.0.1.
func StartSeaweedFS(tb testing.TB, accessKey, secretKey string) *S3 {
	tb.Helper()
	weed := testenv.Tool(tb, "weed")
	dir := tb.TempDir()
	identities, err := json.Marshal(map[string]any{"identities": []any{map[string]any{
		"name":        "philotes",
		"credentials": []any{map[string]string{"accessKey": accessKey, "secretKey": secretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	config := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(config, identities, 0o600); err != nil {
		tb.Fatal(err)
	}
	// Each component also serves gRPC on its port + 10000: both must be free.
	ports, err := freePortPairs(4, 10000)
	if err != nil {
		tb.Fatal(err)
	}
	master, volume, filer, s3 := ports[0], ports[1], ports[2], ports[3]
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		tb.Fatal(err)
	}
	server, err := process.Start(filepath.Join(dir, "weed.log"), nil, weed, "server",
		"-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+strconv.Itoa(master), "-master.volumeSizeLimitMB=64",
		"-volume.port="+strconv.Itoa(volume), "-volume.max=0",
		"-filer", "-filer.port="+strconv.Itoa(filer),
		"-s3", "-s3.port="+strconv.Itoa(s3), "-s3.config="+config)
	if err != nil {
		tb.Fatal(err)
	}
	// weed does not exit within 15 s of SIGTERM, and its data is thrown away with the test:
	// a short grace, then Stop kills its process group.
	tb.Cleanup(func() { server.Stop(syscall.SIGTERM, 2*time.Second) })
	store := &S3{URL: fmt.Sprintf("http://127.0.0.1:%d", s3), Endpoint: fmt.Sprintf("127.0.0.1:%d", s3), AccessKey: accessKey, SecretKey: secretKey}
	// The gateway answers (403 to an unsigned request) once the filer behind it is up.
	err = waitUntil(startTimeout, server, func() error {
		response, err := http.Get(store.URL + "/")
		if err != nil {
			return err
		}
		response.Body.Close()
		if response.StatusCode >= 500 {
			return fmt.Errorf("GET / answered %s", response.Status)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("SeaweedFS S3 on %s did not start: %v", store.URL, err)
	}
	return store
}

// freePortPairs finds n ports p on 127.0.0.1 such that p and p+offset are both free: the
// kernel picks p at random (so parallel tests do not collide), and p is kept only when
// p+offset is free and a valid port.
func freePortPairs(n, offset int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for attempts := 0; len(ports) < n && attempts < 1000; attempts++ {
		first, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, first)
		port := first.Addr().(*net.TCPAddr).Port
		if port+offset > 65535 {
			continue
		}
		second, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+offset))
		if err != nil {
			continue
		}
		listeners = append(listeners, second)
		ports = append(ports, port)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("found only %d of %d free port pairs on 127.0.0.1", len(ports), n)
	}
	return ports, nil
}

// HeadBucket asks whether a bucket exists with a request signed by the store's keys (curl's
// AWS Signature V4), and returns the HTTP status: 200, 404, or 403 for wrong keys.
func (s *S3) HeadBucket(bucket string) (int, error) {
	curl := exec.Command("curl", "--silent", "--output", "/dev/null", "--write-out", "%{http_code}", "--max-time", "10",
		"--head", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", s.AccessKey+":"+s.SecretKey, s.URL+"/"+bucket)
	out, err := curl.Output()
	if err != nil {
		return 0, fmt.Errorf("curl --head %s/%s: %w", s.URL, bucket, err)
	}
	return strconv.Atoi(string(out))
}
