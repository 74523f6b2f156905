import type { IConfigMap, IContainer, IPodSpec, ISecret } from 'kubernetes-models/v1';
import { type K8sObject, named } from './render.js';

/**
 * A container's environment as the kubelet builds it: the ConfigMaps and Secrets of envFrom first,
 * then env, which wins, each `$(NAME)` in a value replaced by a variable defined before it. Values
 * from a Secret are read from the rendered Secret (base64-decoded); from the downward API,
 * `<fieldRef:path>`.
 */
export function environment(container: IContainer, objects: readonly K8sObject[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name) {
      const data = named<IConfigMap>(objects, 'ConfigMap', source.configMapRef.name).data ?? {};
      for (const [key, value] of Object.entries(data)) env.set(key, value);
    } else if (source.secretRef?.name) {
      const data = named<ISecret>(objects, 'Secret', source.secretRef.name).data ?? {};
      for (const [key, value] of Object.entries(data))
        env.set(key, Buffer.from(value, 'base64').toString('utf8'));
    } else throw new Error(`${container.name}: envFrom without a ConfigMap or Secret`);
  }
  for (const variable of container.env ?? []) {
    const value = resolveValue(variable, objects);
    const expand = (text: string) =>
      text.replace(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (reference, name: string) => env.get(name) ?? reference,
      );
    env.set(variable.name, variable.value === undefined ? value : expand(value));
  }
  return env;
}

function resolveValue(
  variable: NonNullable<IContainer['env']>[number],
  objects: readonly K8sObject[],
): string {
  if (variable.value !== undefined) return variable.value;
  const secret = variable.valueFrom?.secretKeyRef;
  if (secret?.name) {
    const encoded = named<ISecret>(objects, 'Secret', secret.name).data?.[secret.key];
    if (encoded === undefined) throw new Error(`Secret ${secret.name} has no key ${secret.key}`);
    return Buffer.from(encoded, 'base64').toString('utf8');
  }
  const field = variable.valueFrom?.fieldRef?.fieldPath;
  if (field) return `<fieldRef:${field}>`;
  throw new Error(`${variable.name}: unexpected kind of value`);
}

/** The names of the ConfigMaps and Secrets a pod refers to (volumes, envFrom, env). */
export function references(pod: IPodSpec): { configMaps: string[]; secrets: string[] } {
  const configMaps: string[] = [];
  const secrets: string[] = [];
  for (const volume of pod.volumes ?? []) {
    if (volume.configMap?.name) configMaps.push(volume.configMap.name);
    if (volume.secret?.secretName) secrets.push(volume.secret.secretName);
  }
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef?.name) configMaps.push(source.configMapRef.name);
      if (source.secretRef?.name) secrets.push(source.secretRef.name);
    }
    for (const variable of container.env ?? []) {
      if (variable.valueFrom?.configMapKeyRef?.name) configMaps.push(variable.valueFrom.configMapKeyRef.name);
      if (variable.valueFrom?.secretKeyRef?.name) secrets.push(variable.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps, secrets };
}

/**
 * What the "restricted" Pod Security Standard asks of a pod, as a list of problems: non-root,
 * no privilege escalation, every capability dropped, the runtime's seccomp profile. Plus this
 * project's rule: a read-only root filesystem.
 */
export function securityProblems(pod: IPodSpec): string[] {
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  for (const container of pod.containers) {
    const context = container.securityContext ?? {};
    const at = (rule: string) => problems.push(`${container.name}: ${rule}`);
    if (!(context.runAsNonRoot ?? podContext.runAsNonRoot)) at('runAsNonRoot is not true');
    if ((context.runAsUser ?? podContext.runAsUser) === 0) at('runs as user 0');
    if (context.allowPrivilegeEscalation !== false) at('allowPrivilegeEscalation is not false');
    if (!context.capabilities?.drop?.includes('ALL')) at('capabilities do not drop ALL');
    const seccomp = context.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') at('no RuntimeDefault seccomp profile');
    if (context.readOnlyRootFilesystem !== true) at('root filesystem is writable');
    if (context.privileged) at('privileged');
  }
  return problems;
}

/** The number of a container port, given as a number or by its name. */
export function portNumber(container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}
