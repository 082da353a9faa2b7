package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine is what BENCHMARKS.md says about the computer a run was on.
type Machine struct {
	CPU       string
	Cores     int
	MemoryGiB float64 // 0 when unknown
	GoVersion string
	OS        string
	// LoadAverage is /proc/loadavg's 1, 5 and 15 minute figures when
	// detected: other work on a shared machine moves the results.
	LoadAverage string
}

// DetectMachine reads the CPU model, memory and load average from /proc
// (Linux); where that is missing it says "unknown" rather than guess. Call
// it before the run, so the load average is the machine's, not the run's.
func DetectMachine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64); err == nil {
			m.MemoryGiB = kb / (1 << 20)
		}
	}
	m.LoadAverage = "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	return m
}

// procField is the value of the first "name : value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// MarkdownInfo is what BENCHMARKS.md says beyond the report.
type MarkdownInfo struct {
	Date     time.Time
	Machine  Machine
	Commands []string      // the exact commands, one a line, shown as a shell block
	Took     time.Duration // wall time of the whole run, server start to report
}

// WriteMarkdown writes BENCHMARKS.md: when, on what, the exact commands,
// the results table, each scenario against its ceiling, the targets with
// PASS/FAIL, and what each scenario sends.
func WriteMarkdown(w io.Writer, r *Report, info MarkdownInfo) error {
	b := &strings.Builder{}
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("# Benchmarks")
	p("")
	p("Written by `telederm bench --markdown` (what `make bench` runs) on %s; do not edit by hand, run `make bench` again.", info.Date.UTC().Format("2006-01-02 15:04 MST"))
	p("The run took %s.", info.Took.Round(time.Second))
	p("")
	p("## Machine")
	p("")
	mem := "unknown"
	if info.Machine.MemoryGiB > 0 {
		mem = fmt.Sprintf("%.1f GiB", info.Machine.MemoryGiB)
	}
	p("| | |")
	p("|---|---|")
	p("| CPU | %s |", mdEscape(info.Machine.CPU))
	p("| cores | %d |", info.Machine.Cores)
	p("| memory | %s |", mem)
	p("| Go | %s |", info.Machine.GoVersion)
	p("| OS | %s |", info.Machine.OS)
	p("| load average before the run (1, 5, 15 min) | %s |", info.Machine.LoadAverage)
	p("")
	p("The server and the load generator share these cores, as do the ceiling server and the load generator;")
	p("other work on the machine during the run lowers the figures, so compare runs on an idle machine.")
	p("")
	p("## Commands")
	p("")
	p("```sh")
	for _, c := range info.Commands {
		p("%s", c)
	}
	p("```")
	p("")
	p("## Results")
	p("")
	p("%d clients, each with one request in flight; %s measured per scenario after %s of warm-up; seed %d.",
		r.Config.Clients, r.Config.Duration, r.Config.Warmup, r.Config.Seed)
	if r.Load != nil {
		p("Loaded first: %s resources in %d transaction Bundles in %.1f s (%s resources/s).",
			thousands(float64(r.Load.Resources)), r.Load.Bundles, r.Load.Seconds, thousands(r.Load.ResourcesPerSec))
	}
	p("Data the scenarios draw from: %s patients, %s referrals, %s observations.",
		thousands(float64(r.Data.Patients)), thousands(float64(r.Data.Referrals)), thousands(float64(r.Data.Observations)))
	p("")
	p("| scenario | requests | req/s | resources/s | p50 ms | p90 ms | p99 ms | max ms | errors | ceiling req/s | of ceiling |")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, s := range r.Scenarios {
		ceil, ratio := "-", "-"
		if s.Ceiling != nil {
			ceil, ratio = thousands(s.Ceiling.RequestsPerSec), percent(s.Ceiling.Ratio)
		}
		mdRow(b, "**"+s.Name+"**", s.Stats, ceil, ratio)
		for _, k := range s.Kinds {
			mdRow(b, fmt.Sprintf("&nbsp;&nbsp;%s (%.0f%%)", mdEscape(k.Name), k.Share*100), k.Stats, "", "")
		}
	}
	p("")
	for _, s := range r.Scenarios {
		if line := ceilingSentence(&s); line != "" {
			p("- %s", line)
		}
	}
	for _, s := range r.Scenarios {
		if s.Errors > 0 {
			p("")
			p("%s: %s of %s requests failed; first failures:", s.Name, thousands(float64(s.Errors)), thousands(float64(s.Requests)))
			p("")
			for _, e := range s.ErrorSamples {
				p("    %s", e)
			}
		}
	}
	p("")
	p("## Targets")
	p("")
	p("| target | want | got | result |")
	p("|---|---|---|---|")
	for _, t := range r.Targets {
		p("| %s | %s | %s | %s |", t.Name, t.Want, mdEscape(t.Got), t.Result)
	}
	p("")
	p("## What the scenarios send")
	p("")
	p("- **ingest**: transaction Bundles of about 100 resources POSTed to the base URL, half five skin-lesion")
	p("  referrals (Patient, ServiceRequest, three photos as Binary + Media, the 7-point checklist")
	p("  Observations, history), half a general Synthea-like record; resources/s counts their entries.")
	p("- **read**: GET by id of the loaded Patients, referrals (ServiceRequest) and Observations.")
	p("- **search**: token (NHS number), string (family and given name), date (referrals authored on a day),")
	p("  chain (referrals by their patient's NHS number) and include (a patient's referrals with the patient")
	p("  and the GP) searches, with values from the loaded data.")
	p("- **mixed**: a GP-surgery day: referrals submitted as transactions, consultants' worklists polling")
	p("  `ServiceRequest?status=active&_sort=-authored&_count=20&_include=ServiceRequest:subject`,")
	p("  consultants reading a referral with its Media and patient, and advice posted as a DiagnosticReport")
	p("  `basedOn` the ServiceRequest.")
	p("")
	p("The ceiling is a bare Go net/http handler in the load generator's process, on loopback, that answers")
	p("each request with a response the real server gave to a request of the same shape (status, headers and")
	p("body, captured during the run and replayed from memory); the same clients send it the same request")
	p("sequence. Its rate is what HTTP, the client and these bytes cost on this machine with no server work,")
	p("so \"of ceiling\" is the share of that the server reaches. Percentiles are nearest-rank, within 1%%.")
	_, err := io.WriteString(w, b.String())
	return err
}

func mdRow(b *strings.Builder, name string, s Stats, ceil, ratio string) {
	fmt.Fprintf(b, "| %s |\n", strings.Join(statsRow(name, s, ceil, ratio), " | "))
}

// mdEscape keeps a value from breaking a table row.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
