/** Locating this tsml install: its package root, name and version. */
export { TSML_PACKAGE_NAME, tsmlPackageRoot, tsmlPackageVersion } from "./packageRoot";
