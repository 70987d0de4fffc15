package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// maxName is the longest name of a vault, restore point, project or token.
const maxName = 80

// validateName checks the name of a vault, restore point, project or
// token: 1 to 80 characters, letters, digits, '_', '-' and '.', starting
// with a letter or digit and not ending with '.' (the ARM rule for
// restorePointCollections and restorePoints).
func validateName(field, name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > maxName {
		return invalid("%s %q: must be 1 to %d characters, has %d", field, name, maxName, n)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok && i > 0 {
			ok = r == '_' || r == '-' || r == '.'
		}
		if !ok {
			return invalid("%s %q: character %q is not allowed (use letters, digits, '_', '-' and '.', starting with a letter or digit)", field, name, r)
		}
	}
	if strings.HasSuffix(name, ".") {
		return invalid("%s %q: must not end with '.'", field, name)
	}
	return nil
}

// validateGroup checks an ARM resource group name: 1 to 90 characters,
// letters, digits, '_', '-', '.', '(' and ')', not ending with '.'.
func validateGroup(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 90 {
		return invalid("resource group %q: must be 1 to 90 characters, has %d", name, n)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.()", r)) {
			return invalid("resource group %q: character %q is not allowed", name, r)
		}
	}
	if strings.HasSuffix(name, ".") {
		return invalid("resource group %q: must not end with '.'", name)
	}
	return nil
}

// diskPath returns the local path a disk's image location names: an
// absolute path, or a file:// URI.
func diskPath(loc string) (string, error) {
	if loc == "" {
		return "", invalid("disk image: no path given")
	}
	p := loc
	if strings.Contains(loc, "://") {
		u, err := url.Parse(loc)
		if err != nil {
			return "", invalid("disk image %q: not a valid URI: %v", loc, err)
		}
		if u.Scheme != "file" {
			return "", cairn.E(cairn.Unsupported, fmt.Errorf("disk image %q: only file:// URIs and paths are supported", loc))
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", invalid("disk image %q: a file URI must name a local file (file:///path)", loc)
		}
		p = u.Path
	}
	if !filepath.IsAbs(p) {
		return "", invalid("disk image %q: the path must be absolute", loc)
	}
	return filepath.Clean(p), nil
}

func checkJSON(field string, m json.RawMessage) error {
	if len(m) > 0 && !json.Valid(m) {
		return invalid("%s: not valid JSON", field)
	}
	return nil
}

func checkTags(tags map[string]string) error {
	if len(tags) > 50 {
		return invalid("tags: at most 50, have %d", len(tags))
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > 512 || !utf8.ValidString(k) {
			return invalid("tag name %q: must be 1 to 512 characters", k)
		}
		if utf8.RuneCountInString(v) > 256 || !utf8.ValidString(v) {
			return invalid("tag %q: the value must be at most 256 characters", k)
		}
	}
	return nil
}

// parseARMID splits an ARM resource id of the Microsoft.Compute provider
// into subscription, resource group, type and name.
func parseARMID(id string) (sub, group, typ, name string, err error) {
	parts := strings.Split(strings.TrimPrefix(id, "/"), "/")
	if len(parts) != 8 || !strings.EqualFold(parts[0], "subscriptions") || !strings.EqualFold(parts[2], "resourceGroups") ||
		!strings.EqualFold(parts[4], "providers") || !strings.EqualFold(parts[5], "Microsoft.Compute") || !strings.HasPrefix(id, "/") {
		return "", "", "", "", invalid("resource id %q: want /subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Compute/{type}/{name}", id)
	}
	return parts[1], parts[3], parts[6], parts[7], nil
}

// checkID checks that an id given in a spec is the one the service makes.
func checkID(given, want string) error {
	if given == "" || strings.EqualFold(given, want) {
		return nil
	}
	if _, _, _, _, err := parseARMID(given); err != nil {
		return err
	}
	return cairn.E(cairn.Invalid, errors.New("resource id "+given+" does not match the project, resource group and name: want "+want))
}
