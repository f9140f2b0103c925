// SPDX-License-Identifier: GPL-2.0
//
// sum-go: the Go peer of make bench-files, idiomatic Go: filepath.WalkDir,
// a goroutine per file with at most -jobs of them reading at once (a
// semaphore channel), hash/fnv's FNV-1a 64 over 64 KiB reads.  It prints
// what zk-sum prints: "<16 hex digits>  <path>" for every regular file
// under each PATH, sorted by path (byte order, like strcmp), a summary on
// stderr.  Standard library only; built at bench time by
// tools/bench/bench-files.sh.
//
//	sum-go [-jobs N] PATH...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

type result struct {
	sum   uint64
	bytes int64
	err   error
}

func sumFile(path string, buf []byte) result {
	f, err := os.Open(path)
	if err != nil {
		return result{err: err}
	}
	defer f.Close()
	h := fnv.New64a()
	n, err := io.CopyBuffer(h, f, buf)
	return result{sum: h.Sum64(), bytes: n, err: err}
}

func main() {
	jobs := flag.Int("jobs", 64, "files read at once (1..4096)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(),
			"usage: sum-go [-jobs N] PATH...\nPrints the FNV-1a 64 checksum of every regular file under each PATH, sorted by path.\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *jobs < 1 || *jobs > 4096 {
		fmt.Fprintf(os.Stderr, "sum-go: -jobs %d: invalid argument (expected 1..4096)\n", *jobs)
		os.Exit(2)
	}
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var paths []string
	for _, root := range flag.Args() {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "sum-go: %v\n", err)
			os.Exit(1)
		}
	}
	sort.Strings(paths)

	results := make([]result, len(paths))
	sem := make(chan struct{}, *jobs)
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, p string) {
			defer wg.Done()
			results[i] = sumFile(p, make([]byte, 64*1024))
			<-sem
		}(i, p)
	}
	wg.Wait()

	out := bufio.NewWriter(os.Stdout)
	var bytes int64
	failed := 0
	for i, r := range results {
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "sum-go: %v\n", r.err)
			failed++
			continue
		}
		bytes += r.bytes
		fmt.Fprintf(out, "%016x  %s\n", r.sum, paths[i])
	}
	out.Flush()
	fmt.Fprintf(os.Stderr, "sum-go: %d files, %d bytes, %d failed\n", len(paths), bytes, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
