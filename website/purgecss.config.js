// PurgeCSS (npm, website/package.json), run by _ext/course_site.py in the built site's folder once
// every page is written: each stylesheet of the site keeps only the rules whose selectors name
// something a page or a script of the site contains. The pages are scanned as built (every
// class a notebook's output uses is in them) and so are all the site's scripts (the theme's,
// Sphinx's search, the widgets' player), which name the classes they add as the reader clicks.
// Kept whatever the scan finds: the classes Bootstrap builds from pieces when it places a
// tooltip or a menu (bs-tooltip-auto, data-popper-placement, data-bs-popper).
module.exports = {
  content: ["*.html", "notebooks/*.html", "_static/**/*.js"],
  css: ["_static/**/*.css"],
  // @font-face rules and custom properties are all kept: the theme names its icon font through
  // custom properties, which PurgeCSS does not follow, and a font is fetched only when used.
  keyframes: true,
  safelist: { greedy: [/tooltip/, /popover/, /popper/] },
};
