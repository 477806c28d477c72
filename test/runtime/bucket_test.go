package runtime

import (
	"net/http"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/testsupport/servers"
)

// The bucket Job against a real S3 server with the keys the door renders: it creates the
// bucket the workers and the warehouse use, a second run finds it, and wrong keys fail in one
// line without creating anything.
func TestBucketJobCreatesTheBucketOnARealS3Server(t *testing.T) {
	forEachDoor(t, func(t *testing.T, d door) {
		job := d.job(t, "bucket")
		store := servers.StartSeaweedFS(t, job.env["ACCESS_KEY"], job.env["SECRET_KEY"])
		bucket := job.env["BUCKET"]
		wrongKey := map[string]string{"S3_ENDPOINT": store.URL, "SECRET_KEY": "not-the-secret-key"}
		job.run(t, wrongKey).failsWithOneLine(t, "object store: HEAD /"+bucket+" answered 403: check the access and secret keys")
		if status := bucketStatus(t, store, bucket); status != http.StatusNotFound {
			t.Errorf("after a refused run the bucket answers %d, want 404", status)
		}
		overrides := map[string]string{"S3_ENDPOINT": store.URL}
		job.run(t, overrides).succeeds(t, "bucket "+bucket+" created")
		if status := bucketStatus(t, store, bucket); status != http.StatusOK {
			t.Errorf("the bucket %s answers %d, want 200", bucket, status)
		}
		job.run(t, overrides).succeeds(t, "bucket "+bucket+" exists")
	})
}

// bucketStatus is the status of a signed HEAD of the bucket.
func bucketStatus(t *testing.T, store *servers.S3, bucket string) int {
	t.Helper()
	status, err := store.HeadBucket(bucket)
	if err != nil {
		t.Fatal(err)
	}
	return status
}
