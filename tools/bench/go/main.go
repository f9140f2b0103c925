// SPDX-License-Identifier: MIT

// zsync-bench-go: zsync-bench-exec's measurements done with goroutines, so
// that `make bench-native` can put Go's numbers next to the executors'
// (tools/bench/bench-native.sh).  Only the standard library: Debian's
// golang-go builds it offline.
//
//	zsync-bench-go [-s PERCENT] [-k]
//
// The same work as zsync-bench-exec, metric by metric: a yield (switch),
// spawn and await in batches of 50, a ping-pong over two channels of
// capacity 1, a producer and a consumer over a channel of capacity 256,
// four goroutines contending for one sync.Mutex, the ping-pong with both
// goroutines locked to OS threads of their own (runtime.LockOSThread),
// and 100000 goroutines that each send one message to a collector.
// GOMAXPROCS is Go's default (every CPU the process may use).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var scale = 100

func scaled(n int) int {
	if v := n * scale / 100; v > 0 {
		return v
	}
	return 1
}

// Each function returns ns per operation (fanout: ns for the whole run).

func benchSwitch() float64 {
	n := scaled(200000)
	var wg sync.WaitGroup
	t0 := time.Now()
	for k := 0; k < 2; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(2*n)
}

func benchSpawn() float64 {
	const batch = 50
	n := scaled(20000)/batch*batch + batch
	var res [batch]int64
	t0 := time.Now()
	for i := 0; i < n; i += batch {
		var wg sync.WaitGroup
		wg.Add(batch)
		for j := 0; j < batch; j++ {
			go func(j int) {
				res[j] = 1
				wg.Done()
			}(j)
		}
		wg.Wait()
		for j := range res {
			if res[j] != 1 {
				return -1
			}
			res[j] = 0
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

// pingpong: a round trip over two channels of capacity 1; with lock, both
// parties hold an OS thread of their own.
func pingpong(lock bool) float64 {
	n := scaled(50000)
	a, b := make(chan uint64, 1), make(chan uint64, 1)
	done := make(chan struct{})
	t0 := time.Now()
	go func() {
		if lock {
			runtime.LockOSThread()
		}
		for i := 0; i < n; i++ {
			b <- <-a
		}
		close(done)
	}()
	pinged := make(chan struct{})
	go func() {
		if lock {
			runtime.LockOSThread()
		}
		var v uint64
		for i := 0; i < n; i++ {
			a <- v
			v = <-b
		}
		close(pinged)
	}()
	<-done
	<-pinged
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func benchThroughput() float64 {
	n := scaled(1000000)
	ch := make(chan uint64, 256)
	var sum uint64
	done := make(chan struct{})
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- uint64(i)
		}
	}()
	go func() {
		for i := 0; i < n; i++ {
			sum += <-ch
		}
		close(done)
	}()
	<-done
	d := time.Since(t0).Nanoseconds()
	if sum != uint64(n)*uint64(n-1)/2 {
		return -1
	}
	return float64(d) / float64(n)
}

func benchMutex() float64 {
	const k = 4
	n := scaled(100000)
	var m sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	t0 := time.Now()
	for j := 0; j < k; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				m.Lock()
				counter++
				m.Unlock()
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0).Nanoseconds()
	if counter != k*n {
		return -1
	}
	return float64(d) / float64(k*n)
}

// benchFanout: n goroutines, one message each, into a collector whose
// buffer holds them all (zsync's side uses an unbounded channel).
func benchFanout() float64 {
	n := scaled(100000)
	ch := make(chan uint64, n)
	var wg sync.WaitGroup
	var sum uint64
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(v uint64) {
			ch <- v
			wg.Done()
		}(uint64(i))
	}
	for i := 0; i < n; i++ {
		sum += <-ch
	}
	wg.Wait()
	d := time.Since(t0).Nanoseconds()
	if sum != uint64(n)*uint64(n-1)/2 {
		return -1
	}
	return float64(d)
}

// benchCPUFanout: 2000 goroutines of arithmetic (zsync-bench-exec's
// crunch()), each result awaited: what GOMAXPROCS threads buy.
func benchCPUFanout() float64 {
	n := scaled(2000)
	res := make([]uint64, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			x := uint64(i+1) | 1
			for k := 0; k < 20000; k++ {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
			}
			res[i] = x & 0xffff
			wg.Done()
		}(i)
	}
	wg.Wait()
	d := time.Since(t0).Nanoseconds()
	var sum uint64
	for _, v := range res {
		sum += v
	}
	if sum == 0 {
		return -1
	}
	return float64(d)
}

type metric struct {
	key, name, unit string
	run             func() float64
	show            func(ns float64) float64
}

func asNs(v float64) float64   { return v }
func asRate(v float64) float64 { return 1e3 / v }
func asMs(v float64) float64   { return v / 1e6 }

var metrics = []metric{
	{"switch_ns", "goroutine switch (Gosched)", "ns", benchSwitch, asNs},
	{"spawn_ns", "spawn + await", "ns", benchSpawn, asNs},
	{"pingpong_ns", "channel ping-pong round trip", "ns", func() float64 { return pingpong(false) }, asNs},
	{"throughput_mmsg_s", "channel throughput (cap 256)", "M msg/s", benchThroughput, asRate},
	{"mutex4_ns", "mutex lock+unlock, 4 contending", "ns", benchMutex, asNs},
	{"xthread_pingpong_ns", "ping-pong, both LockOSThread", "ns", func() float64 { return pingpong(true) }, asNs},
	{"fanout_ms", "fan-out/fan-in, 100000 tasks", "ms", benchFanout, asMs},
	{"cpu_fanout_ms", "CPU-bound fan-out, 2000 x ~30 us", "ms", benchCPUFanout, asMs},
}

func main() {
	kv := flag.Bool("k", false, "print 'result METRIC go VALUE' lines instead of the table")
	flag.IntVar(&scale, "s", 100, "scale the iteration counts, in percent")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-s PERCENT] [-k]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || scale <= 0 || scale > 10000 {
		fmt.Fprintf(os.Stderr, "%s: bad argument: invalid argument (EINVAL)\n", os.Args[0])
		flag.Usage()
		os.Exit(2)
	}
	prefix := ""
	if *kv {
		prefix = "# "
	}
	fmt.Printf("%szsync-bench-go: %s, GOMAXPROCS %d, %d CPUs, scale %d%%\n", prefix,
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), scale)
	for _, m := range metrics {
		v := m.run()
		switch {
		case *kv && v >= 0:
			fmt.Printf("result %s go %.3f\n", m.key, m.show(v))
		case *kv:
			fmt.Fprintf(os.Stderr, "%s: %s: the work was not done\n", os.Args[0], m.key)
		case v < 0:
			fmt.Printf("%-40s %12s\n", m.name+" ["+m.unit+"]", "failed")
		default:
			fmt.Printf("%-40s %12.2f\n", m.name+" ["+m.unit+"]", m.show(v))
		}
	}
}
