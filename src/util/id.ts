// Container id rules, the same as runc's (libcontainer factory validateID): word characters and
// "+,-." only, and nothing that path-cleans to something else ("." and ".."). No other policy here.

const idPattern = /^[\w+,\-.]+$/;

/** True when id is acceptable as a container id (and so as a directory name under --root). */
export function isValidId(id: string): boolean {
  return idPattern.test(id) && id !== '.' && id !== '..';
}
