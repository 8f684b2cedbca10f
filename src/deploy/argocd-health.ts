import { API_GROUP } from '../api/group.ts';

/**
 * Argo CD health checks for the three kinds. Argo CD has no generic rule for custom resources: without
 * these, a failed GlusterVolume would never turn an Application Degraded. The script reads what every kind
 * reports: observedGeneration (a spec not yet seen is Progressing, never a stale Healthy) and the
 * Ready / Degraded / Progressing conditions.
 */
export const HEALTH_LUA = `hs = { status = "Progressing", message = "waiting for the operator" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata.generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < obj.metadata.generation) then
  hs.message = "waiting for the operator to act on generation " .. obj.metadata.generation
  return hs
end
local conditions = {}
for _, condition in ipairs(obj.status.conditions) do
  conditions[condition.type] = condition
end
local ready, degraded = conditions["Ready"], conditions["Degraded"]
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.reason .. ": " .. (degraded.message or "")
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
elseif ready ~= nil then
  hs.message = ready.reason .. ": " .. (ready.message or "")
end
return hs
`;

export const HEALTH_KINDS = ['GlusterCluster', 'GlusterNode', 'GlusterVolume'] as const;

/** The argocd-cm keys, as `kubectl -n argocd patch configmap argocd-cm --patch-file` takes them. */
export function argoCdHealthPatch(): Record<string, unknown> {
  return {
    data: Object.fromEntries(HEALTH_KINDS.map((kind) => [`resource.customizations.health.${API_GROUP}_${kind}`, HEALTH_LUA])),
  };
}
