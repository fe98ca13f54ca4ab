// The version recorded in encoded files' metadata; kept in step with package.json by a test.
export const BLINDLINK_VERSION = '0.1.0';
