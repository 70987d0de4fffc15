package tools

import "testing"

func TestNewestID(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"list, last wins", `[{"id":"a"},{"id":"b"}]`, "b"},
		{"by time", `[{"id":"new","created":"2026-01-02T00:00:00Z"},{"id":"old","created":"2026-01-01T00:00:00Z"}]`, "new"},
		{"nested", `{"vault":"v","restore_points":[{"restore_point_id":"rp1","disks":[{"id":"d"}]},{"restore_point_id":"rp2"}]}`, "rp2"},
		{"camel case", `{"restorePoints":[{"ID":"x","createdAt":"2026-01-01T00:00:00Z"}]}`, "x"},
	}
	for _, tc := range tests {
		got, err := NewestID([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("%s: NewestID = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []string{`not json`, `[]`, `{"x":1}`} {
		if id, err := NewestID([]byte(bad)); err == nil {
			t.Errorf("NewestID(%s) = %q, want an error", bad, id)
		}
	}
}
