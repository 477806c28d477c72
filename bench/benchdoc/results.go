package main

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	"golang.org/x/perf/benchfmt"
)

// Results are the runs of one `make bench`: every measurement of every
// benchmark, and the key: value lines that describe the machine and the run.
type Results struct {
	Config     map[string]string
	benchmarks map[string]map[string][]float64
}

// procsSuffix is the GOMAXPROCS suffix go test appends to benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseResults reads `go test -bench` output in the benchmark data format,
// with golang.org/x/perf's reader (the one benchstat uses). Configuration lines
// apply to the results after them, so `make bench` writes every one of them,
// the load after the run included, before the first result.
// A line the format does not allow is an error naming fileName and the line.
func ParseResults(r io.Reader, fileName string) (*Results, error) {
	results := &Results{Config: map[string]string{}, benchmarks: map[string]map[string][]float64{}}
	reader := benchfmt.NewReader(r, fileName)
	for reader.Scan() {
		switch record := reader.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, record
		case *benchfmt.Result:
			for _, config := range record.Config {
				if config.File {
					results.Config[config.Key] = string(config.Value)
				}
			}
			// The reader drops the Benchmark prefix that the report's names keep.
			name := "Benchmark" + procsSuffix.ReplaceAllString(string(record.Name), "")
			if results.benchmarks[name] == nil {
				results.benchmarks[name] = map[string][]float64{}
			}
			for _, v := range record.Values {
				// The reader tidies units (ns/op becomes sec/op); the report
				// reads them as go test wrote them.
				value, unit := v.Value, v.Unit
				if v.OrigUnit != "" {
					value, unit = v.OrigValue, v.OrigUnit
				}
				results.benchmarks[name][unit] = append(results.benchmarks[name][unit], value)
			}
		}
	}
	if err := reader.Err(); err != nil {
		return nil, err
	}
	if len(results.benchmarks) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", fileName)
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
