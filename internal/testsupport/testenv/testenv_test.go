package testenv

import (
	"strings"
	"testing"
)

func TestMilliValueReadsTheQuantitiesOfTheValuesFiles(t *testing.T) {
	for quantity, want := range map[string]int64{
		"250m": 250, "1": 1000, "0.5": 500, "2": 2000,
		"64Mi": 64 << 20 * 1000, "1Gi": 1 << 30 * 1000, "128Ki": 128 << 10 * 1000, "1k": 1000 * 1000,
	} {
		if got, err := MilliValue(quantity); err != nil || got != want {
			t.Errorf("MilliValue(%q) = %d, %v; want %d", quantity, got, err, want)
		}
	}
	for _, bad := range []string{"", "Mi", "-1", "1.5.2", "ten"} {
		if _, err := MilliValue(bad); err == nil || !strings.Contains(err.Error(), "want a non-negative number") {
			t.Errorf("MilliValue(%q): %v, want a refusal", bad, err)
		}
	}
}

func TestFirstDifferenceNamesBothSidesAtTheFirstDifferingLine(t *testing.T) {
	got := FirstDifference("left", "a\nb\nc\nd", "right", "a\nb\nX\nd")
	if !strings.HasPrefix(got, `line 3: left "c", right "X"; before it:`) || !strings.HasSuffix(got, "a\nb") {
		t.Errorf("FirstDifference = %q", got)
	}
	if got := FirstDifference("left", "a", "right", "a\nb"); !strings.HasPrefix(got, `line 2: left "", right "b"`) {
		t.Errorf("a longer right side: %q", got)
	}
	if got := FirstDifference("left", "same", "right", "same"); got != "(no difference)" {
		t.Errorf("equal texts: %q", got)
	}
}
