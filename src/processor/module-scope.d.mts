/** Types of module-scope.mjs (plain JavaScript, so that bin/register.mjs can use it before any TypeScript loader). */

/**
 * The nearest package.json above `path` when it lacks `"type": "module"`, so that Node (and tsx) load the
 * `.ts`/`.js` file as CommonJS; undefined when the file loads as an ES module (or its extension decides).
 */
export declare function commonJsPackageOf(path: string): string | undefined;

/** The ES-module name of `path`: `.ts` → `.mts`, `.js` → `.mjs`. */
export declare function esmExtensionOf(path: string): string;
