-- Health of an mlops.dev Deployment (mlops-operator). Its status follows kstatus
-- (https://github.com/kubernetes-sigs/cli-utils/blob/master/pkg/kstatus/README.md): Ready on every
-- kind, Reconciling=True while the operator works, Stalled=True (with Ready=False) on a failure
-- that needs a change from a user, status.observedGeneration and each condition's
-- observedGeneration for the generation they describe. The rules, in order:
--   status behind metadata.generation  -> Progressing
--   Stalled=True                       -> Degraded
--   Degraded=True                      -> Degraded (a rollout rolled back or aborted)
--   Progressing=True, reason Paused or WaitingForPromote
--                                      -> Suspended (spec.paused, or a step waiting for spec.promote)
--   Reconciling=True                   -> Progressing
--   Ready=True                         -> Healthy
--   otherwise                          -> Progressing
-- Uses only the base and table libraries (the string library is not open for argocd-cm scripts).
local function condition(status, name)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == name then
      return c
    end
  end
  return nil
end

local function said(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local hs = {}
local generation = obj.metadata.generation
local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready = condition(status, "Ready")
if generation ~= nil then
  local waiting = "waiting for the operator to observe generation " .. tostring(generation)
  -- status.observedGeneration moves once the current generation has a result (a Model's: once its
  -- gate has answered); until then Ready says what the operator is doing about it, if it has
  -- looked at this generation yet.
  if status.observedGeneration == nil or status.observedGeneration < generation then
    hs.status = "Progressing"
    if ready ~= nil and ready.observedGeneration == generation then
      hs.message = said(ready, waiting)
    else
      hs.message = waiting
    end
    return hs
  end
  if ready ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
    hs.status = "Progressing"
    hs.message = waiting
    return hs
  end
end
local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = said(stalled, said(ready, "Stalled"))
  return hs
end
-- A rollout given up, or one that waits for a person.
local degraded = condition(status, "Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = said(degraded, said(ready, "Degraded"))
  return hs
end
local progressing = condition(status, "Progressing")
if progressing ~= nil and progressing.status == "True"
    and (progressing.reason == "Paused" or progressing.reason == "WaitingForPromote") then
  hs.status = "Suspended"
  hs.message = said(progressing, progressing.reason)
  return hs
end
local reconciling = condition(status, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = said(reconciling, said(ready, "Reconciling"))
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = said(ready, "Ready")
  return hs
end
hs.status = "Progressing"
hs.message = said(ready, "waiting for the Ready condition")
return hs
