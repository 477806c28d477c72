package render

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// SiteFile holds where the deployment is published, relative to the repository root.
const SiteFile = "site.yaml"

// Site is where a deployment is published: a fork sets it once.
type Site struct {
	// Repository is the Git URL Argo CD and Flux clone.
	Repository string `json:"repository"`
	// Revision is the tag, branch or commit the Argo CD overlays variant builds.
	Revision string `json:"revision"`
	// Registry is the OCI repository prefix, without a scheme.
	Registry string `json:"registry"`
	// GitSecret names the Secret in flux-system Flux clones with; empty: none.
	GitSecret string `json:"gitSecret"`
	// RegistrySecret names the Secret in flux-system Flux pulls with; empty: none.
	RegistrySecret string `json:"registrySecret"`
	// InsecureRegistry is a registry served over plain HTTP: Flux's sources set
	// insecure and `make publish` pushes without TLS.
	InsecureRegistry bool `json:"insecureRegistry,omitempty"`
	// RegistryProvider is how Flux logs in to the registry: generic (with
	// RegistrySecret, or anonymously) or a cloud's workload identity.
	RegistryProvider string `json:"registryProvider,omitempty"`
}

// GenericProvider is Flux's default registry login: a Secret, or none.
const GenericProvider = "generic"

// RegistryProviders are the values Flux's OCIRepository and HelmRepository accept.
var RegistryProviders = []string{GenericProvider, "aws", "azure", "gcp"}

var (
	// Git URLs the controllers clone: HTTPS, SSH, and the scp-like form Git accepts.
	httpsRepository = regexp.MustCompile(`^https://[A-Za-z0-9.-]+(:[0-9]+)?/[^\s]+$`)
	sshRepository   = regexp.MustCompile(`^ssh://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]+)?/[^\s]+$`)
	scpRepository   = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s/][^\s]*$`)
	gitRevision     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	ociRegistry     = regexp.MustCompile(`^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$`)
	secretName      = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$`)
)

// LoadSite reads and checks the site file.
func LoadSite(root string) (Site, error) {
	var site Site
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(SiteFile)))
	if err != nil {
		return site, err
	}
	if err := yaml.UnmarshalStrict(data, &site); err != nil {
		return site, fmt.Errorf("%s: %w", SiteFile, err)
	}
	return site, site.Validate()
}

// IsSSH reports whether the repository is cloned over SSH, where Flux needs a
// secretRef with the key and known hosts.
func (s Site) IsSSH() bool {
	return sshRepository.MatchString(s.Repository) || scpRepository.MatchString(s.Repository)
}

// Validate names every field that is not allowed, with what is.
func (s Site) Validate() error {
	var problems []string
	if !httpsRepository.MatchString(s.Repository) && !sshRepository.MatchString(s.Repository) && !scpRepository.MatchString(s.Repository) {
		problems = append(problems, fmt.Sprintf("repository %q is not a Git URL; allowed: https://host/path, ssh://[user@]host[:port]/path or user@host:path", s.Repository))
	}
	if !gitRevision.MatchString(s.Revision) {
		problems = append(problems, fmt.Sprintf("revision %q is not a Git tag, branch or commit; allowed: letters, digits, . _ / -", s.Revision))
	}
	if !ociRegistry.MatchString(s.Registry) {
		problems = append(problems, fmt.Sprintf("registry %q is not an OCI repository; allowed: host[:port]/path in lowercase, without a scheme", s.Registry))
	}
	for field, name := range map[string]string{"gitSecret": s.GitSecret, "registrySecret": s.RegistrySecret} {
		if !secretName.MatchString(name) || len(name) > 253 {
			problems = append(problems, fmt.Sprintf("%s %q is not a Secret name; allowed: a DNS subdomain name, or empty for none", field, name))
		}
	}
	if s.RegistryProvider != "" && !slices.Contains(RegistryProviders, s.RegistryProvider) {
		problems = append(problems, fmt.Sprintf("registryProvider %q is not one Flux knows; allowed: %s", s.RegistryProvider, strings.Join(RegistryProviders, ", ")))
	}
	if s.RegistryProvider != "" && s.RegistryProvider != GenericProvider && s.RegistrySecret != "" {
		problems = append(problems, fmt.Sprintf("registrySecret %q and registryProvider %q both set: with a cloud provider Flux logs in by workload identity, so leave registrySecret empty", s.RegistrySecret, s.RegistryProvider))
	}
	if s.IsSSH() && s.GitSecret == "" {
		problems = append(problems, fmt.Sprintf("gitSecret is empty, but Flux clones %s over SSH only with a key: name the Secret that holds identity and known_hosts", s.Repository))
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("%s: %s", SiteFile, strings.Join(problems, "; "))
	}
	return nil
}
