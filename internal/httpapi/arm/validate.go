package arm

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateSubscription checks a subscription segment. Azure subscription
// ids are GUIDs; cairn's are project ids, so any 1 to 64 letters, digits,
// '-', '_' or '.' are accepted.
func ValidateSubscription(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("subscription id %q: must be 1 to 64 characters", s)
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (isAlnum(r) || r == '-' || r == '_' || r == '.')) {
			return fmt.Errorf("subscription id %q: character %q is not allowed", s, r)
		}
	}
	return nil
}

// ValidateResourceGroup checks a resource group name against Azure's
// rule: 1 to 90 characters, letters, digits, '_', '(', ')', '-' and '.',
// not ending in '.'.
func ValidateResourceGroup(s string) error {
	n := utf8.RuneCountInString(s)
	if n < 1 || n > 90 {
		return fmt.Errorf("resource group name %q: must be 1 to 90 characters, has %d", s, n)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("resource group name %q: not valid UTF-8", s)
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_()-.", r)) {
			return fmt.Errorf("resource group name %q: character %q is not allowed (use letters, digits, '_', '(', ')', '-' or '.')", s, r)
		}
	}
	if strings.HasSuffix(s, ".") {
		return fmt.Errorf("resource group name %q: cannot end with '.'", s)
	}
	return nil
}

// Azure's naming rules: Compute resources such as disks, snapshots and
// restore points take 1 to 80 letters, digits, '_', '.' and '-', starting
// with a letter or digit and ending with a letter, digit or '_'. Linux VM
// names take 1 to 64 characters, without '_' and not ending in '.' or '-'.
var (
	computeName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$`)
	vmName      = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$`)
)

// ValidateName checks the name of a resource of type typ (a type segment
// such as TypeRestorePointCollections) against Azure's naming rules.
func ValidateName(typ, name string) error {
	re, rule := computeName, "1 to 80 letters, digits, '_', '.' or '-', starting with a letter or digit and ending with a letter, digit or '_'"
	if typ == TypeVirtualMachines {
		re, rule = vmName, "1 to 64 letters, digits, '.' or '-', starting and ending with a letter or digit"
	}
	if !re.MatchString(name) {
		return fmt.Errorf("%s name %q is invalid: must be %s", typ, name, rule)
	}
	return nil
}

var locationRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// NormalizeLocation turns a location as callers write it ("West Europe",
// "westeurope") into the form ARM reports ("westeurope"): lower case
// without spaces. It fails for an empty or malformed location; whether
// the location exists is for the service to say.
func NormalizeLocation(s string) (string, error) {
	loc := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	if loc == "" {
		return "", fmt.Errorf("location is required")
	}
	if !locationRE.MatchString(loc) {
		return "", fmt.Errorf("location %q is malformed: use letters, digits and '-'", s)
	}
	return loc, nil
}

// Azure's limits on tags.
const (
	maxTags        = 50
	maxTagName     = 512
	maxTagValue    = 256
	badTagNameRune = "<>%&\\?/"
)

// ValidateTags checks tags against ARM's limits: at most 50 tags, names
// of 1 to 512 characters without any of < > % & \ ? /, values of at most
// 256 characters.
func ValidateTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return fmt.Errorf("tags: at most %d are allowed, have %d", maxTags, len(tags))
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagName {
			return fmt.Errorf("tag name %q: must be 1 to %d characters", k, maxTagName)
		}
		if i := strings.IndexAny(k, badTagNameRune); i >= 0 {
			return fmt.Errorf("tag name %q: character %q is not allowed", k, k[i])
		}
		if utf8.RuneCountInString(v) > maxTagValue {
			return fmt.Errorf("tag %q: value must be at most %d characters", k, maxTagValue)
		}
	}
	return nil
}

var apiVersionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-[A-Za-z]+)?$`)

// ValidateAPIVersion checks the form of an api-version value: a date
// (2024-11-01), optionally with a suffix such as "-preview". cairn serves
// the same contract under every well-formed version.
func ValidateAPIVersion(v string) error {
	if !apiVersionRE.MatchString(v) {
		return fmt.Errorf("the api-version %q is invalid: use a date such as 2024-11-01, optionally followed by '-preview'", v)
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
