package gitops_test

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/janovincze/philotes-deploy/internal/build/render"
	"github.com/janovincze/philotes-deploy/internal/testsupport/testenv"
)

// gitOpsYAMLFiles lists every YAML file under gitops/, repository-relative.
func gitOpsYAMLFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "gitops"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			rel, err := filepath.Rel(root, path)
			files = append(files, rel)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no YAML files under gitops/")
	}
	return files
}

func TestEveryYAMLFileUnderGitOpsNamesTheAPIVersionKindAndNameOfEachObject(t *testing.T) {
	for _, file := range gitOpsYAMLFiles(t) {
		nodes := readManifests(t, file)
		if len(nodes) == 0 {
			t.Errorf("%s holds no object", file)
		}
		for i, n := range nodes {
			// A kustomization file is configuration for kustomize, not an object.
			isKustomization := apiGroup(n.GetApiVersion()) == "kustomize.config.k8s.io"
			if n.GetApiVersion() == "" || n.GetKind() == "" || (n.GetName() == "" && !isKustomization) {
				t.Errorf("%s, object %d: apiVersion %q, kind %q, metadata.name %q: all three are required",
					file, i+1, n.GetApiVersion(), n.GetKind(), n.GetName())
			}
		}
	}
}

// TestEveryFileUnderGitOpsIsReadByADoorOrAController keeps gitops/ free of
// files that no test builds and no user applies.
func TestEveryFileUnderGitOpsIsReadByADoorOrAController(t *testing.T) {
	read := map[string]bool{}
	mark := func(dir string) {
		for _, file := range kustomizationFiles(t, dir) {
			read[file] = true
		}
	}
	for _, door := range slices.Concat(doors, []string{repoServerComponent}) {
		mark(door)
	}
	// Directories that Argo CD or Flux read because a manifest names them.
	for _, dir := range controllerDirectories(t) {
		mark(dir)
	}
	for _, file := range gitOpsYAMLFiles(t) {
		if !read[file] {
			t.Errorf("%s is read by no door (%s), by no Argo CD Application and no Flux Kustomization", file, strings.Join(doors, ", "))
		}
	}
}

// controllerDirectories are the gitops/ directories that the doors' manifests
// make a controller build: Argo CD components and Flux Kustomization paths.
func controllerDirectories(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, door := range argoCDDoors {
		for _, app := range argoCDApplications(t, door) {
			for _, component := range app.Spec.Source.components() {
				dirs = append(dirs, filepath.Join(app.Spec.Source.Path, component))
			}
		}
	}
	for _, door := range fluxDoors {
		for _, k := range fluxKustomizations(t, door) {
			if path := filepath.Clean(k.Spec.Path); strings.HasPrefix(path, "gitops/") {
				dirs = append(dirs, path)
			}
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

func TestEveryDoorFetchesFromThisRepository(t *testing.T) {
	want := site(t).Repository
	for _, door := range argoCDDoors {
		for _, app := range argoCDApplications(t, door) {
			if app.Spec.Source.RepoURL != want {
				t.Errorf("%s: Application %s syncs %s, want %s", door, app.Name, app.Spec.Source.RepoURL, want)
			}
		}
		project := argoCDProject(t, door)
		if !slices.Contains(project.Spec.SourceRepos, want) {
			t.Errorf("%s: AppProject %s allows %v, not %s", door, project.Metadata.Name, project.Spec.SourceRepos, want)
		}
	}
	for _, door := range fluxDoors {
		for _, source := range objectsOf[gitRepository](t, build(t, door), "source.toolkit.fluxcd.io", "GitRepository") {
			if source.Spec.URL != want {
				t.Errorf("%s: GitRepository %s clones %s, want %s", door, source.Metadata.Name, source.Spec.URL, want)
			}
		}
	}
}

func TestEveryRegistryIsTheSites(t *testing.T) {
	registry := site(t).Registry
	for _, door := range fluxDoors {
		nodes := build(t, door)
		for _, kind := range []string{"OCIRepository", "HelmRepository"} {
			for _, source := range objectsOf[helmRepository](t, nodes, "source.toolkit.fluxcd.io", kind) {
				if !strings.HasPrefix(source.Spec.URL, "oci://"+registry+"/") {
					t.Errorf("%s: %s %s pulls %s, want it under oci://%s/ (%s)", door, kind, source.Metadata.Name, source.Spec.URL, registry, render.SiteFile)
				}
			}
		}
	}
}

// TestTheRenderedVariantsSyncExactlyTheDirectoriesMakeRenderWrites: Argo CD's
// rendered ApplicationSet and Flux's Kustomizations consume what `make render`
// writes, no more and no less.
func TestTheRenderedVariantsSyncExactlyTheDirectoriesMakeRenderWrites(t *testing.T) {
	var want []string
	for _, env := range testenv.Environments(t) {
		want = append(want, filepath.Join(render.RenderedDir, env))
	}
	slices.Sort(want)
	check := func(door string, synced []string) {
		slices.Sort(synced)
		if !slices.Equal(synced, want) {
			t.Errorf("%s syncs %v, want the directories `make render` writes: %v", door, synced, want)
		}
		for _, dir := range synced {
			for _, file := range []string{"kustomization.yaml", render.ManifestsFile} {
				if !existsInRepository(t, filepath.Join(dir, file)) {
					t.Errorf("%s syncs %s, which has no %s: run `make render`", door, dir, file)
				}
			}
		}
	}
	var argoPaths []string
	for _, app := range argoCDApplications(t, argoCDRendered) {
		argoPaths = append(argoPaths, filepath.Clean(app.Spec.Source.Path))
	}
	check(argoCDRendered, argoPaths)
	for _, door := range []string{fluxGit, fluxOCI} {
		var paths []string
		for _, k := range fluxKustomizations(t, door) {
			if path := filepath.Clean(k.Spec.Path); strings.HasPrefix(path, render.RenderedDir+"/") {
				paths = append(paths, path)
			}
		}
		check(door, paths)
	}
}
