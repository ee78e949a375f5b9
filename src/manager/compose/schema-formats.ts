// The string formats the compose-spec schema names (duration, ports, expose, subnet_ip_address),
// as compose-go checks them. scripts/gen-spec.ts compiles them into spec/validators/compose.js.

export const formats: Record<string, RegExp> = {
  duration: /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h))+$/,
  // [ip:][host[-range]:]container[-range][/proto], an IPv6 host address in brackets.
  ports: /^(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+|[^:]*):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-fA-F:.]+\/\d{1,3}$/,
};
