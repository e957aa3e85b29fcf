// echo-server: the HTTP (and TCP/UDP) echo server of the kube-harness test image.
//
// Every HTTP request gets one line back naming who answered and who asked, so scenarios can
// check which endpoint served them and whether the client source address was preserved:
//
//	hostname=web-7d9c-x2 local=10.244.1.5:8080 client=10.244.2.7:51234 path=/
//
// GET /json returns the same as a JSON object; GET /healthz returns "ok".
// With -tcp/-udp it also echoes raw bytes on those ports.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
)

type reply struct {
	Hostname string `json:"hostname"`
	Local    string `json:"local"`
	Client   string `json:"client"`
	Path     string `json:"path"`
}

func describe(r *http.Request) reply {
	host, _ := os.Hostname()
	local := ""
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		local = addr.String()
	}
	return reply{Hostname: host, Local: local, Client: r.RemoteAddr, Path: r.URL.Path}
}

func main() {
	listen := flag.String("listen", ":8080", "HTTP listen address")
	tcp := flag.String("tcp", "", "also echo raw TCP on this address (e.g. :9000)")
	udp := flag.String("udp", "", "also echo UDP datagrams on this address (e.g. :9001)")
	flag.Parse()

	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	http.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(describe(r))
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d := describe(r)
		fmt.Fprintf(w, "hostname=%s local=%s client=%s path=%s\n", d.Hostname, d.Local, d.Client, d.Path)
	})
	if *tcp != "" {
		go echoTCP(*tcp)
	}
	if *udp != "" {
		go echoUDP(*udp)
	}
	log.Printf("echo-server listening on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}

func echoTCP(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			continue
		}
		go func(c net.Conn) { defer c.Close(); _, _ = io.Copy(c, c) }(conn)
	}
}

func echoUDP(addr string) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err == nil {
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}
}
