// Service worker (scope "/"): the scoring form and its assets open without a network.
// Pages: network first, the last copy when offline. Static files: cache first, refreshed.
// Nothing but GET is ever answered from the cache; saves go to the network (the form queues them).
"use strict";
var PAGES = "tuiyou-pages-v1";
var ASSETS = "tuiyou-assets-v1";
// "/offline": what a page never kept shows offline (in the language of the day it was installed).
var PRECACHE = ["/static/tuiyou.css", "/static/rating.css", "/static/rating.js", "/static/tasks.js",
                "/static/panel.css", "/offline"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(ASSETS).then(function (cache) { return cache.addAll(PRECACHE); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function isPage(url) {
  return url.pathname === "/" || /^\/assignments\/\d+$/.test(url.pathname);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === "/login") {
    // A new login on a shared tablet: forget the pages kept for the last person.
    event.waitUntil(caches.delete(PAGES));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(ASSETS).then(function (cache) {
      return cache.match(request, { ignoreSearch: true }).then(function (hit) {
        var network = fetch(request).then(function (response) {
          if (response.ok) { cache.put(url.pathname, response.clone()); }
          return response;
        });
        return hit || network;
      });
    }));
    return;
  }
  if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(fetch(request).then(function (response) {
      // Keep the last good copy of the page; a login redirect is not one.
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(PAGES).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () {
      return caches.open(PAGES).then(function (cache) {
        return cache.match(url.pathname).then(function (hit) {
          return hit || caches.match("/offline").then(function (page) {
            return page || new Response("离线：此页面尚未在本设备上联网打开过。", {
              status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
          });
        });
      });
    }));
  }
});
