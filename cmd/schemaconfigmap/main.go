// Command schemaconfigmap writes the ConfigMap of Philotes' SQL scripts that the schema Job
// applies, from a Philotes source release: a local checkout (-source) or the release's source
// archive, downloaded by version (-version). `make schema-configmap` runs it.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/janovincze/philotes-deploy/internal/build/generated"
	"github.com/janovincze/philotes-deploy/internal/build/schemascripts"
)

// archiveURL is where a release's source archive is published; %s is the version tag.
const archiveURL = "https://github.com/janovincze/philotes/archive/refs/tags/%s.tar.gz"

func main() {
	source := flag.String("source", "", "a checkout of Philotes' source release (or a directory of its .sql scripts)")
	version := flag.String("version", "", "a Philotes release tag, e.g. v0.1.0, whose source archive is downloaded")
	archive := flag.String("archive-url", archiveURL, "URL of a release's source archive, %s standing for the version")
	name := flag.String("name", "philotes-schema", "ConfigMap name (the api chart's schema.configMap)")
	namespace := flag.String("namespace", "", "ConfigMap namespace; empty leaves it to kubectl")
	output := flag.String("o", "", "file to write (through a temporary file); empty writes to stdout")
	flag.Parse()
	if err := run(*source, *version, *archive, *name, *namespace, *output); err != nil {
		fmt.Fprintln(os.Stderr, "schemaconfigmap:", err)
		os.Exit(1)
	}
}

func run(source, version, archive, name, namespace, output string) error {
	var scripts schemascripts.Scripts
	var err error
	origin := source
	switch {
	case (source == "") == (version == ""):
		return fmt.Errorf("give exactly one of -source (a checkout) or -version (a release tag)")
	case source != "":
		scripts, err = schemascripts.FromDir(source)
	default:
		origin = version
		scripts, err = download(fmt.Sprintf(archive, version))
	}
	if err != nil {
		return err
	}
	manifest, err := scripts.ConfigMap(name, namespace, origin)
	if err != nil {
		return err
	}
	if output == "" {
		_, err = os.Stdout.Write(manifest)
		return err
	}
	if _, err := (generated.Files{filepath.Base(output): manifest}).Write(filepath.Dir(output)); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d scripts of %s): kubectl apply -f %s\n", output, len(scripts), origin, output)
	return nil
}

func download(url string) (schemascripts.Scripts, error) {
	client := &http.Client{Timeout: 2 * time.Minute}
	response, err := client.Get(url)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", url, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading %s: %s (is the version a release tag, like v0.1.0?)", url, strings.TrimSpace(response.Status))
	}
	return schemascripts.FromArchive(response.Body, url)
}
