package main

import "testing"

func TestCovered(t *testing.T) {
	for _, tc := range []struct {
		spans []span
		want  float64
	}{
		{nil, 0},
		{[]span{{-1, 4}}, 4},
		{[]span{{-1, 12}}, 10},
		{[]span{{5, 8}, {-0.5, 2}, {2.5, 4}}, 2 + 1.5 + 3},
		{[]span{{0, 6}, {3, 7}}, 7},   // overlapping
		{[]span{{11, 13}, {0, 1}}, 1}, // after the window
	} {
		if got := covered(tc.spans, 10); got != tc.want {
			t.Errorf("covered(%v) = %v, want %v", tc.spans, got, tc.want)
		}
	}
}
