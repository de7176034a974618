// Two things the widget manager (@jupyter-widgets/html-manager 1.0.x) needs to work offline here.
//
// 1. Its icon fonts: their URLs are made from the AMD module names it defines
//    ("@jupyter-widgets/base", "@jupyter-widgets/html-manager/dist/..."), which RequireJS resolves
//    against the page's folder, where nothing is. A RequireJS configuration given before require.js
//    loads (the global `require` object) maps both onto the vendored folder, next to embed-amd.js.
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (!here || window.requirejs) return;
  var vendor = here.replace(/[^/]*$/, "") + "vendor/jupyter-widgets";
  window.require = {paths: {"@jupyter-widgets/html-manager/dist": vendor, "@jupyter-widgets": vendor}};
  window.__jupyter_widgets_assets_path__ = vendor + "/";
})();

// 2. The widget manager typesets widget labels with MathJax 2's
// MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]). This site loads MathJax 3, which has no Hub, so
// every widget label threw "Cannot read properties of undefined (reading 'Queue')". Whatever object
// window.MathJax becomes (the configuration first, MathJax 3 itself once loaded), it gets a Hub whose
// Queue asks MathJax 3 to typeset that element when it is ready.
(function () {
  "use strict";
  function hub() {
    return {
      Queue: function (job) {
        var element = Array.isArray(job) ? job[2] : undefined;
        var mathjax = window.MathJax;
        if (!mathjax || !mathjax.startup || !mathjax.startup.promise) return;  // not loaded yet: it typesets the page itself
        mathjax.startup.promise.then(function () {
          return mathjax.typesetPromise ? mathjax.typesetPromise(element ? [element] : undefined) : null;
        });
      }
    };
  }
  function withHub(value) {
    if (value && typeof value === "object" && !value.Hub) {
      Object.defineProperty(value, "Hub", {value: hub(), configurable: true, enumerable: false});
    }
    return value;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); }
  });
})();
