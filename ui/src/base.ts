// Where the console lives. The Hub serves index.html with a <base href> of its mount point (`/`
// standalone, e.g. `/aigne-hub/` when a Blocklet Server app mounts it there), so the assets load
// relative to it; the router and every request to the Hub's own API start from the same place.

/** The mount point without its trailing slash: '' at the root, '/aigne-hub' under a prefix. */
export const BASE = mountPoint(typeof document === 'undefined' ? '/' : document.baseURI);

export function mountPoint(baseUri: string): string {
  return new URL(baseUri, 'http://localhost/').pathname.replace(/\/+$/, '');
}

/** An absolute path of the Hub's (`/api/…`, `/credits`) under the mount point; other URLs as they are. */
export function under(path: string, base = BASE): string {
  return path.startsWith('/') && !path.startsWith('//') ? `${base}${path}` : path;
}
