// The com.docker.compose.* labels: compose keeps no state of its own, the engine's labels are its
// state (compose v2 pkg/api/labels.go). Both docker compose v2 and docker-compose 1.29 read them.

export const PROJECT = 'com.docker.compose.project';
export const SERVICE = 'com.docker.compose.service';
export const CONFIG_HASH = 'com.docker.compose.config-hash';
export const CONTAINER_NUMBER = 'com.docker.compose.container-number';
export const ONEOFF = 'com.docker.compose.oneoff';
export const SLUG = 'com.docker.compose.slug';
export const WORKING_DIR = 'com.docker.compose.project.working_dir';
export const CONFIG_FILES = 'com.docker.compose.project.config_files';
export const ENVIRONMENT_FILE = 'com.docker.compose.project.environment_file';
export const DEPENDS_ON = 'com.docker.compose.depends_on';
export const IMAGE = 'com.docker.compose.image';
export const VERSION = 'com.docker.compose.version';
export const REPLACE = 'com.docker.compose.replace';
export const NETWORK = 'com.docker.compose.network';
export const VOLUME = 'com.docker.compose.volume';

declare const KEEL_VERSION: string;
/** The version written into com.docker.compose.version and printed by `compose version`. */
export const COMPOSE_VERSION = typeof KEEL_VERSION === 'string' ? KEEL_VERSION : '0.1.0';

/** A label filter value as the engine takes it ("key=value", or "key" for presence). */
export function labelFilter(key: string, value?: string): string {
  return value === undefined ? key : `${key}=${value}`;
}

/** Filters selecting the project's resources, optionally one service and only non one-off containers. */
export function projectFilter(project: string, o: { service?: string; oneoff?: boolean } = {}): { label: string[] } {
  const label = [labelFilter(PROJECT, project)];
  if (o.service) label.push(labelFilter(SERVICE, o.service));
  if (o.oneoff !== undefined) label.push(labelFilter(ONEOFF, o.oneoff ? 'True' : 'False'));
  return { label };
}
