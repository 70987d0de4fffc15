package cairn

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest name, in characters, that ValidateName accepts.
const MaxNameLen = 64

// ValidateName checks a VM or disk name against the naming rule that Huawei
// Cloud CBR applies to its resources: 1 to 64 characters, each a letter, a
// digit, a CJK character, '_' or '-'. field names the input in the error.
func ValidateName(field, name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxNameLen {
		return E(Invalid, fmt.Errorf("%s %q: must be 1 to %d characters, has %d", field, name, MaxNameLen, n))
	}
	if !utf8.ValidString(name) {
		return E(Invalid, fmt.Errorf("%s %q: not valid UTF-8", field, name))
	}
	for _, r := range name {
		if !nameRune(r) {
			return E(Invalid, fmt.Errorf("%s %q: character %q is not allowed (use letters, digits, CJK characters, '_' or '-')", field, name, r))
		}
	}
	return nil
}

func nameRune(r rune) bool {
	switch {
	case r == '_' || r == '-':
		return true
	case r < utf8.RuneSelf:
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r), unicode.Is(unicode.Hangul, r):
		return true
	default:
		return unicode.IsLetter(r) || unicode.IsDigit(r)
	}
}
