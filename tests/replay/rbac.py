"""A small, faithful RBAC authorizer for the replay server.

It evaluates requests the way kube-apiserver's RBAC authorizer does, over the RBAC objects the
server stores (the recorded v1.24 bootstrap roles and bindings plus whatever a test adds):

- subjects: a User by name, a Group by membership, a ServiceAccount by its user name
  ``system:serviceaccount:<ns>:<name>``; every authenticated identity is in
  ``system:authenticated`` (service accounts also in ``system:serviceaccounts[:<ns>]``);
- ClusterRoleBindings grant everywhere; RoleBindings only in their namespace (to a Role there, or
  to a ClusterRole);
- aggregated ClusterRoles (``aggregationRule.clusterRoleSelectors``) get the rules of every
  ClusterRole their selectors match, as the aggregation controller would write them;
- a rule matches on verbs, apiGroups, resources (``*``, ``res/sub``, ``*/sub``) and
  resourceNames, or on nonResourceURLs (exact, ``*``, or a ``prefix*``) — upstream's
  ``rbac/v1`` ``VerbMatches``/``APIGroupMatches``/``ResourceMatches``/``NonResourceURLMatches``.

Anything not allowed is denied (no other authorizer follows RBAC here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RBAC_GROUP = "rbac.authorization.k8s.io"
AUTHENTICATED = "system:authenticated"

Rule = Mapping[str, Any]
ListObjects = Callable[[str], list[dict[str, Any]]]  # RBAC resource name -> stored objects


@dataclass(frozen=True)
class RequestAttributes:
    """What RBAC decides on (k8s.io/apiserver authorizer.Attributes)."""

    user: str
    groups: tuple[str, ...]
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def groups_of(user: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    groups = [*extra, AUTHENTICATED]
    parts = user.split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        groups += ["system:serviceaccounts", f"system:serviceaccounts:{parts[2]}"]
    return tuple(dict.fromkeys(groups))


def _verb_matches(rule: Rule, verb: str) -> bool:
    verbs = rule.get("verbs") or ()
    return "*" in verbs or verb in verbs


def _group_matches(rule: Rule, group: str) -> bool:
    groups = rule.get("apiGroups") or ()
    return "*" in groups or group in groups


def _resource_matches(rule: Rule, resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for candidate in rule.get("resources") or ():
        if candidate == "*" or candidate == combined:
            return True
        if subresource and candidate == f"*/{subresource}":
            return True
    return False


def _name_matches(rule: Rule, name: str) -> bool:
    names = rule.get("resourceNames") or ()
    return not names or name in names


def _url_matches(rule: Rule, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or ():
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(rule: Rule, attrs: RequestAttributes) -> bool:
    if not _verb_matches(rule, attrs.verb):
        return False
    if not attrs.resource_request:
        return _url_matches(rule, attrs.path)
    return (
        _group_matches(rule, attrs.api_group)
        and _resource_matches(rule, attrs.resource, attrs.subresource)
        and _name_matches(rule, attrs.name)
    )


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or ()
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


class Authorizer:
    """RBAC over the objects `list_objects` returns (read afresh for every decision, so a test can
    add bindings while the server runs)."""

    def __init__(self, list_objects: ListObjects) -> None:
        self._list = list_objects

    def _cluster_role_rules(self) -> dict[str, list[Rule]]:
        roles = self._list("clusterroles")
        rules = {r["metadata"]["name"]: list(r.get("rules") or ()) for r in roles}
        for role in roles:
            aggregation = role.get("aggregationRule") or {}
            selectors = aggregation.get("clusterRoleSelectors") or ()
            if not selectors:
                continue
            aggregated: list[Rule] = []
            for other in roles:
                if other is role:
                    continue
                labels = other["metadata"].get("labels") or {}
                if any(_selector_matches(s, labels) for s in selectors):
                    aggregated.extend(other.get("rules") or ())
            rules[role["metadata"]["name"]] = aggregated
        return rules

    @staticmethod
    def _subject_matches(subject: Mapping[str, Any], user: str, groups: tuple[str, ...]) -> bool:
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "User":
            return name == user
        if kind == "Group":
            return name in groups
        if kind == "ServiceAccount":
            return user == f"system:serviceaccount:{subject.get('namespace', '')}:{name}"
        return False

    def rules_for(self, user: str, groups: tuple[str, ...], namespace: str = "") -> list[Rule]:
        """Every rule that applies to `user` (cluster-wide, plus `namespace`'s RoleBindings)."""
        cluster_rules = self._cluster_role_rules()
        rules: list[Rule] = []
        for binding in self._list("clusterrolebindings"):
            if any(self._subject_matches(s, user, groups) for s in binding.get("subjects") or ()):
                rules.extend(cluster_rules.get(binding["roleRef"]["name"], ()))
        if namespace:
            roles = {
                r["metadata"]["name"]: list(r.get("rules") or ())
                for r in self._list("roles")
                if r["metadata"].get("namespace") == namespace
            }
            for binding in self._list("rolebindings"):
                if binding["metadata"].get("namespace") != namespace:
                    continue
                if not any(self._subject_matches(s, user, groups) for s in binding.get("subjects") or ()):
                    continue
                ref = binding["roleRef"]
                source = cluster_rules if ref.get("kind") == "ClusterRole" else roles
                rules.extend(source.get(ref["name"], ()))
        return rules

    def allowed(self, attrs: RequestAttributes) -> bool:
        namespace = attrs.namespace if attrs.resource_request else ""
        return any(rule_allows(r, attrs) for r in self.rules_for(attrs.user, attrs.groups, namespace))

    def rules_review_status(self, user: str, groups: tuple[str, ...], namespace: str) -> dict[str, Any]:
        """The `status` of a SelfSubjectRulesReview, as kube-apiserver fills it."""
        resource_rules, non_resource_rules = [], []
        for rule in self.rules_for(user, groups, namespace):
            if rule.get("nonResourceURLs"):
                non_resource_rules.append(
                    {"verbs": list(rule.get("verbs") or ()), "nonResourceURLs": list(rule["nonResourceURLs"])}
                )
            else:
                entry = {
                    "verbs": list(rule.get("verbs") or ()),
                    "apiGroups": list(rule.get("apiGroups") or ()),
                    "resources": list(rule.get("resources") or ()),
                }
                if rule.get("resourceNames"):
                    entry["resourceNames"] = list(rule["resourceNames"])
                resource_rules.append(entry)
        return {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": False}
