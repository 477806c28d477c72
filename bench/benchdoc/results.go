package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Results are the runs of one `make bench`: every measurement of every
// benchmark, and the key: value lines that describe the machine and the run.
type Results struct {
	Config     map[string]string
	benchmarks map[string]map[string][]float64
}

var (
	// configLine is a benchmark-format configuration line ("cpu: AMD EPYC").
	configLine = regexp.MustCompile(`^([a-z][^\s:]*):\s*(.*)$`)
	// procsSuffix is the GOMAXPROCS suffix go test appends to benchmark names.
	procsSuffix = regexp.MustCompile(`-\d+$`)
)

// ParseResults reads `go test -bench` output in the benchmark data format.
func ParseResults(r io.Reader) (*Results, error) {
	results := &Results{Config: map[string]string{}, benchmarks: map[string]map[string][]float64{}}
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1024*1024), 1024*1024)
	for line := 1; scanner.Scan(); line++ {
		text := scanner.Text()
		if match := configLine.FindStringSubmatch(text); match != nil {
			results.Config[match[1]] = match[2]
			continue
		}
		if !strings.HasPrefix(text, "Benchmark") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 4 || len(fields)%2 != 0 {
			// A benchmark's own log lines start with its name too; only result
			// lines have an iteration count and value-unit pairs.
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(fields[0], "")
		if results.benchmarks[name] == nil {
			results.benchmarks[name] = map[string][]float64{}
		}
		for i := 2; i < len(fields); i += 2 {
			value, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %s: value %q is not a number", line, name, fields[i])
			}
			results.benchmarks[name][fields[i+1]] = append(results.benchmarks[name][fields[i+1]], value)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if len(results.benchmarks) == 0 {
		return nil, fmt.Errorf("no benchmark results")
	}
	return results, nil
}

// Median is the median of a benchmark's values in unit (ns/op, B/op, ...).
func (r *Results) Median(benchmark, unit string) (float64, error) {
	values := r.benchmarks[benchmark][unit]
	if len(values) == 0 {
		return 0, fmt.Errorf("no %s result for %s: run `make bench` (it runs every benchmark)", unit, benchmark)
	}
	sorted := slices.Sorted(slices.Values(values))
	middle := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[middle], nil
	}
	return (sorted[middle-1] + sorted[middle]) / 2, nil
}

// Runs is how many times a benchmark ran (the -count of the run).
func (r *Results) Runs(benchmark string) int {
	return len(r.benchmarks[benchmark]["ns/op"])
}

// Matching returns the benchmarks whose name matches pattern, each with the
// pattern's first submatch as an integer, ordered by it.
func (r *Results) Matching(pattern *regexp.Regexp) ([]string, []int, error) {
	type match struct {
		name string
		key  int
	}
	var matches []match
	for name := range r.benchmarks {
		sub := pattern.FindStringSubmatch(name)
		if sub == nil {
			continue
		}
		key, err := strconv.Atoi(sub[1])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %q is not a number", name, sub[1])
		}
		matches = append(matches, match{name, key})
	}
	if len(matches) == 0 {
		return nil, nil, fmt.Errorf("no benchmark matches %s: run `make bench` (it runs every benchmark)", pattern)
	}
	slices.SortFunc(matches, func(a, b match) int { return a.key - b.key })
	names, keys := make([]string, len(matches)), make([]int, len(matches))
	for i, m := range matches {
		names[i], keys[i] = m.name, m.key
	}
	return names, keys, nil
}
