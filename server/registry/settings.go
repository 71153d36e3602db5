package registry

import (
	"context"
	"regexp"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/namespacepackagesetting"
	"github.com/pkgreg/registry/server/registry/enum"
)

// maxExceptionRegexLen is GitLab's limit on duplicate exception regexes.
const maxExceptionRegexLen = 255

// PackageSettings are a namespace's package rules (defaults when unset).
type PackageSettings struct {
	NamespaceID int
	Rules       map[enum.Format]DuplicateRule
}

// DuplicateRule says whether a format accepts a second file with the same
// name in the same package version, and for which names or versions the
// opposite holds.
type DuplicateRule struct {
	Allowed        bool
	ExceptionRegex string
}

// Formats whose duplicate rule is configurable, in GitLab's naming.
var duplicateFormats = []enum.Format{enum.Generic, enum.PyPI, enum.NPM, enum.Maven}

// DuplicateFormats lists the formats that have a duplicate rule.
func DuplicateFormats() []enum.Format { return duplicateFormats }

func settingsFromRow(nsID int, r *ent.NamespacePackageSetting) *PackageSettings {
	ps := &PackageSettings{NamespaceID: nsID, Rules: map[enum.Format]DuplicateRule{}}
	for _, f := range duplicateFormats {
		// The defaults of the public registries: PyPI and npm never
		// accept a file again under a published version.
		ps.Rules[f] = DuplicateRule{Allowed: f != enum.PyPI && f != enum.NPM}
	}
	if r != nil {
		ps.Rules[enum.Generic] = DuplicateRule{r.GenericDuplicatesAllowed, r.GenericDuplicateExceptionRegex}
		ps.Rules[enum.PyPI] = DuplicateRule{r.PypiDuplicatesAllowed, r.PypiDuplicateExceptionRegex}
		ps.Rules[enum.NPM] = DuplicateRule{r.NpmDuplicatesAllowed, r.NpmDuplicateExceptionRegex}
		ps.Rules[enum.Maven] = DuplicateRule{r.MavenDuplicatesAllowed, r.MavenDuplicateExceptionRegex}
	}
	return ps
}

// loadPackageSettings reads a namespace's package rules (defaults when it
// has none). It is the Service's: DuplicatesAllowed, which formats call,
// and Projects' settings reads and writes share it.
func (s *Service) loadPackageSettings(ctx context.Context, nsID int) (*PackageSettings, error) {
	r, err := s.db.NamespacePackageSetting.Query().Where(namespacepackagesetting.NamespaceID(nsID)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, Internal(err, "could not read package settings")
	}
	return settingsFromRow(nsID, r), nil
}

// DuplicatesAllowed applies GitLab's rule, read from the project's direct
// namespace: allowed XOR (the exception regex fully matches the name or the
// version). An empty regex matches nothing.
func (s *Service) DuplicatesAllowed(ctx context.Context, prj *ent.Project, format enum.Format, name, version string) (bool, error) {
	ps, err := s.loadPackageSettings(ctx, prj.NamespaceID)
	if err != nil {
		return false, err
	}
	rule, ok := ps.Rules[format]
	if !ok {
		return true, nil
	}
	if rule.ExceptionRegex == "" {
		return rule.Allowed, nil
	}
	re, err := regexp.Compile(`^(?:` + rule.ExceptionRegex + `)$`)
	if err != nil {
		// Stored regexes were validated; a bad one must not open the gate.
		s.log.Error("stored duplicate exception regex does not compile", "namespace_id", prj.NamespaceID, "err", err)
		return false, nil
	}
	match := re.MatchString(name) || re.MatchString(version)
	return rule.Allowed != match, nil
}

// PackageSettingsFor returns the package settings of a namespace p can see.
func (pr *Projects) PackageSettingsFor(ctx context.Context, p *Principal, ns *ent.Namespace) (*PackageSettings, error) {
	return pr.s.loadPackageSettings(ctx, ns.ID)
}

// UpdatePackageSettingsInput holds the changes (nil: unchanged).
type UpdatePackageSettingsInput struct {
	Allowed map[enum.Format]*bool
	Regex   map[enum.Format]*string
}

// UpdatePackageSettings changes a namespace's package rules. OWNER of the
// group (or the owner of a personal namespace). Invalid regexes change nothing.
func (pr *Projects) UpdatePackageSettings(ctx context.Context, p *Principal, namespacePath string, in UpdatePackageSettingsInput) (*PackageSettings, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	if err := validateFullPath("namespacePath", namespacePath); err != nil {
		return nil, err
	}
	na, err := pr.s.Namespace(ctx, p, namespacePath)
	if err != nil {
		return nil, err
	}
	if err := require(p, na.Level, enum.Owner, writeAPIScopes, "changing package settings"); err != nil {
		return nil, err
	}
	for f, re := range in.Regex {
		if re == nil {
			continue
		}
		if len(*re) > maxExceptionRegexLen {
			return nil, Invalid("%sDuplicateExceptionRegex is too long (maximum is %d characters)", f, maxExceptionRegexLen)
		}
		if _, err := regexp.Compile(*re); err != nil {
			return nil, Invalid("%sDuplicateExceptionRegex is not a valid regular expression: %v", f, err)
		}
	}
	nsID := na.Namespace.ID
	err = pr.s.RetryTx(ctx, func(tx *ent.Tx) error {
		// Create the row with defaults if missing, then apply the changes.
		if err := tx.NamespacePackageSetting.Create().SetNamespaceID(nsID).
			OnConflictColumns(namespacepackagesetting.FieldNamespaceID).Ignore().Exec(ctx); err != nil {
			return err
		}
		u := tx.NamespacePackageSetting.Update().Where(namespacepackagesetting.NamespaceID(nsID)).SetUpdatedAt(pr.s.now())
		set := map[enum.Format]func(bool, *string){
			enum.Generic: func(a bool, r *string) {
				if r != nil {
					u.SetGenericDuplicateExceptionRegex(*r)
				} else {
					u.SetGenericDuplicatesAllowed(a)
				}
			},
			enum.PyPI: func(a bool, r *string) {
				if r != nil {
					u.SetPypiDuplicateExceptionRegex(*r)
				} else {
					u.SetPypiDuplicatesAllowed(a)
				}
			},
			enum.NPM: func(a bool, r *string) {
				if r != nil {
					u.SetNpmDuplicateExceptionRegex(*r)
				} else {
					u.SetNpmDuplicatesAllowed(a)
				}
			},
			enum.Maven: func(a bool, r *string) {
				if r != nil {
					u.SetMavenDuplicateExceptionRegex(*r)
				} else {
					u.SetMavenDuplicatesAllowed(a)
				}
			},
		}
		for f, a := range in.Allowed {
			if a != nil {
				set[f](*a, nil)
			}
		}
		for f, r := range in.Regex {
			if r != nil {
				set[f](false, r)
			}
		}
		return u.Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return pr.s.loadPackageSettings(ctx, nsID)
}
