package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the Prometheus collectors of one server.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(cache CacheStats) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "urbis_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "urbis_http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
	}
	m.registry.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	if cache != nil {
		m.registry.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "urbis_resolver_cache_hits_total",
				Help: "DID resolutions answered from the cache.",
			}, func() float64 { h, _ := cache.Stats(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "urbis_resolver_cache_misses_total",
				Help: "DID resolutions that were not in the cache (cacheable methods only).",
			}, func() float64 { _, mi := cache.Stats(); return float64(mi) }),
		)
	}
	return m
}

// withMetrics counts and times every request by its route template.
func (s *Server) withMetrics(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := routeOf(c)
	s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	s.metrics.latency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
}

// GetMetrics serves the Prometheus text format.
func (s *Server) GetMetrics(c *gin.Context) {
	s.metrics.handler.ServeHTTP(c.Writer, c.Request)
}
