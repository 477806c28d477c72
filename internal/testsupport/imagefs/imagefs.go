// Package imagefs runs an image's programs the way its container would, on a
// machine without a container runtime: the image's filesystem unpacked into a
// directory, its programs run from there with the image's environment, the
// image's absolute paths moved under that directory.
package imagefs

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Root is an unpacked image: its filesystem under Dir, its config.
type Root struct {
	Dir    string
	Config v1.Config
	// Tmp stands in for the emptyDir a pod mounts at /tmp.
	Tmp string
}

// Unpack writes the image's flattened filesystem into a temporary directory.
// It holds regular files and directories only: anything else is refused, as
// this repository's images have nothing else.
func Unpack(tb testing.TB, img v1.Image) Root {
	tb.Helper()
	config, err := img.ConfigFile()
	if err != nil {
		tb.Fatal(err)
	}
	root := Root{Dir: filepath.Join(tb.TempDir(), "rootfs"), Config: config.Config, Tmp: tb.TempDir()}
	flat := mutate.Extract(img)
	defer flat.Close()
	archive := tar.NewReader(flat)
	for {
		header, err := archive.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		target := filepath.Join(root.Dir, filepath.FromSlash(header.Name))
		if !strings.HasPrefix(target, root.Dir+string(filepath.Separator)) {
			tb.Fatalf("image entry %q leaves the filesystem root", header.Name)
		}
		switch header.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, os.FileMode(header.Mode).Perm()|0o700)
		case tar.TypeReg:
			err = writeFile(target, archive, os.FileMode(header.Mode).Perm())
		default:
			tb.Fatalf("image entry %q is of tar type %q: only files and directories are expected", header.Name, header.Typeflag)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

func writeFile(target string, content io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	file, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(file, content); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// Path is an absolute path of the image in the unpacked filesystem; /tmp is
// the stand-in for the pod's emptyDir.
func (r Root) Path(imagePath string) string {
	if imagePath == "/tmp" || strings.HasPrefix(imagePath, "/tmp/") {
		return filepath.Join(r.Tmp, strings.TrimPrefix(imagePath, "/tmp"))
	}
	return filepath.Join(r.Dir, filepath.FromSlash(imagePath))
}

// Env is the image's environment, nothing of the test's, with every absolute
// path (each entry of PATH, HOME) moved into the unpacked filesystem, and
// TMPDIR at the /tmp stand-in. extra is added as it is.
func (r Root) Env(extra ...string) []string {
	env := []string{"TMPDIR=" + r.Tmp}
	for _, entry := range r.Config.Env {
		name, value, _ := strings.Cut(entry, "=")
		var paths []string
		for _, p := range filepath.SplitList(value) {
			if filepath.IsAbs(p) {
				p = r.Path(p)
			}
			paths = append(paths, p)
		}
		env = append(env, name+"="+strings.Join(paths, string(filepath.ListSeparator)))
	}
	return append(env, extra...)
}

// LookPath finds a command the way the container's exec would: an absolute
// path in the image, or a name on the image's PATH.
func (r Root) LookPath(tb testing.TB, command string) string {
	tb.Helper()
	if filepath.IsAbs(command) {
		return r.Path(command)
	}
	for _, entry := range r.Config.Env {
		if value, ok := strings.CutPrefix(entry, "PATH="); ok {
			for _, dir := range filepath.SplitList(value) {
				candidate := filepath.Join(r.Path(dir), command)
				if info, err := os.Stat(candidate); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
					return candidate
				}
			}
		}
	}
	tb.Fatalf("%s is not on the image's PATH (env %v)", command, r.Config.Env)
	return ""
}

// The stand-in for `docker run`: kustomize runs a containerised KRM function
// as `docker run [flags] IMAGE`, from PATH. InstallDocker puts a `docker` there
// that is the test binary itself, and ServeDockerRun, first in TestMain, makes
// that binary run the image's entrypoint from its unpacked filesystem with the
// ResourceList on stdin, as the container would. No container runtime runs on
// the test machines. The stand-in checks what the image must provide for
// docker (the --user name in its /etc/passwd, an absolute entrypoint) but
// cannot confine the function (no network namespace, no user switch).
const (
	dockerCommand  = "docker"
	dockerImageEnv = "PHILOTES_IMAGEFS_IMAGE"
	dockerRootEnv  = "PHILOTES_IMAGEFS_ROOT"
)

// InstallDocker returns the environment under which `docker run reference`
// runs root: PATH starts with a directory holding the stand-in.
func InstallDocker(tb testing.TB, reference string, root Root) []string {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, dockerCommand)); err != nil {
		tb.Fatal(err)
	}
	encoded, err := json.Marshal(root)
	if err != nil {
		tb.Fatal(err)
	}
	return []string{
		"PATH=" + dir + string(filepath.ListSeparator) + os.Getenv("PATH"),
		dockerImageEnv + "=" + reference,
		dockerRootEnv + "=" + string(encoded),
	}
}

// ServeDockerRun returns at once unless this process was started as the
// stand-in; then it runs the container and exits with its status.
func ServeDockerRun() {
	if filepath.Base(os.Args[0]) != dockerCommand {
		return
	}
	code, err := dockerRun(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "docker (test stand-in):", err)
		code = 125 // docker's own status when it cannot run the container
	}
	os.Exit(code)
}

// dockerValueFlags are the `docker run` flags kustomize passes with a value.
var dockerValueFlags = []string{"-a", "--network", "--user", "-e"}

func dockerRun(args []string) (int, error) {
	if len(args) == 0 || args[0] != "run" {
		return 0, fmt.Errorf("only `docker run` is served, not %v", args)
	}
	var env []string
	var image, user string
	rest := args[1:]
	for len(rest) > 0 && image == "" {
		arg := rest[0]
		rest = rest[1:]
		switch {
		case arg == "--mount":
			return 0, fmt.Errorf("--mount %v is not served: the functions here need no storage", rest)
		case slices.Contains(dockerValueFlags, arg):
			if len(rest) == 0 {
				return 0, fmt.Errorf("%s without a value", arg)
			}
			switch arg {
			case "-e":
				// As docker: NAME=VALUE as given, NAME from the caller's environment when set.
				if strings.Contains(rest[0], "=") {
					env = append(env, rest[0])
				} else if value, ok := os.LookupEnv(rest[0]); ok {
					env = append(env, rest[0]+"="+value)
				}
			case "--user":
				user = rest[0]
			}
			rest = rest[1:]
		case arg == "--rm" || arg == "-i" || strings.HasPrefix(arg, "--security-opt="):
		case strings.HasPrefix(arg, "-"):
			return 0, fmt.Errorf("docker run flag %s is not one kustomize passes", arg)
		default:
			image = arg
		}
	}
	if want := os.Getenv(dockerImageEnv); image != want {
		return 0, fmt.Errorf("image %q asked for; only %q is unpacked", image, want)
	}
	var root Root
	if err := json.Unmarshal([]byte(os.Getenv(dockerRootEnv)), &root); err != nil {
		return 0, fmt.Errorf("%s: %w", dockerRootEnv, err)
	}
	if err := root.knowsUser(user); err != nil {
		return 0, err
	}
	// As docker: arguments after the image replace the image's Cmd.
	command := root.Config.Cmd
	if len(rest) > 0 {
		command = rest
	}
	entrypoint := append(append([]string{}, root.Config.Entrypoint...), command...)
	if len(entrypoint) == 0 {
		return 0, fmt.Errorf("image %s has no entrypoint", image)
	}
	program := root.Path(entrypoint[0])
	if !filepath.IsAbs(entrypoint[0]) {
		return 0, fmt.Errorf("image %s's entrypoint %s is not an absolute path", image, entrypoint[0])
	}
	container := exec.Command(program, entrypoint[1:]...)
	container.Env = root.Env(env...)
	container.Stdin, container.Stdout, container.Stderr = os.Stdin, os.Stdout, os.Stderr
	container.Dir = root.Tmp
	err := container.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}

// knowsUser is docker's check of --user: a numeric uid[:gid] is taken as it is,
// a name must be in the image's /etc/passwd.
func (r Root) knowsUser(user string) error {
	name, _, _ := strings.Cut(user, ":")
	if name == "" || strings.Trim(name, "0123456789") == "" {
		return nil
	}
	passwd, err := os.ReadFile(r.Path("/etc/passwd"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for line := range strings.Lines(string(passwd)) {
		if entry, _, _ := strings.Cut(line, ":"); entry == name {
			return nil
		}
	}
	return fmt.Errorf("unable to find user %s: no matching entries in passwd file", name)
}
