"""Drives a cluster with Debian's python3-kubernetes, the official Python client, as an independent client.

Usage: python3 python_client.py KUBECONFIG CHECK NAMESPACE [ARGS...]
Each check prints what it saw as "name=value" lines and exits non-zero with a message when something differs
from what kube-apiserver answers.
"""
import json
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward, stream


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check_exec(core, namespace, pod):
    # stdin, stdout and stderr over the v4.channel.k8s.io WebSocket protocol.
    ws = stream(core.connect_get_namespaced_pod_exec, pod, namespace,
                command=["sh", "-c", "read line; echo got-$line; echo to-stderr >&2; exit 7"],
                stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    ws.write_stdin("hello\n")
    out, err = "", ""
    deadline = time.monotonic() + 60
    while ws.is_open() and time.monotonic() < deadline:
        ws.update(timeout=1)
        out += ws.read_stdout() if ws.peek_stdout() else ""
        err += ws.read_stderr() if ws.peek_stderr() else ""
    ws.close()
    print("stdout=" + json.dumps(out))
    print("stderr=" + json.dumps(err))
    print("exitcode=%s" % ws.returncode)
    # The simple form returns the output of a command that reads no input.
    print("simple=" + json.dumps(stream(core.connect_get_namespaced_pod_exec, pod, namespace,
                                        command=["echo", "simple-output"], stdout=True, stderr=True, stdin=False, tty=False)))


def check_portforward(core, namespace, pod, port):
    forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    sock = forward.socket(int(port))
    sock.setblocking(True)
    sock.settimeout(60)
    sock.sendall(b"GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    error = forward.error(int(port))
    print("response=" + json.dumps(data.decode("utf-8", "replace")))
    print("error=" + json.dumps(error))


def check_api(core, apps, namespace):
    # A watch whose selector matches nothing must answer at once; the matching object created later arrives, then stop().
    w = watch.Watch()
    started = threading.Event()
    seen = []

    def create_later():
        started.wait(30)
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="py-watched", labels={"py-watch": "nothing-yet"}), data={"a": "1"}))

    creator = threading.Thread(target=create_later)
    creator.start()
    response = core.list_namespaced_config_map(namespace, label_selector="py-watch=nothing-yet", watch=True,
                                               timeout_seconds=60, _preload_content=False)
    print("watchstatus=%d" % response.status)
    started.set()
    for line in response:
        for raw in line.splitlines():
            if raw.strip():
                event = json.loads(raw)
                seen.append("%s/%s" % (event["type"], event["object"]["metadata"]["name"]))
        if seen:
            break
    response.release_conn()
    creator.join()
    print("watched=" + ",".join(seen))
    for event in w.stream(core.list_namespaced_config_map, namespace, label_selector="py-watch=nothing-yet", timeout_seconds=60):
        print("streamed=%s/%s" % (event["type"], event["object"].metadata.name))
        w.stop()
    core.delete_namespaced_config_map("py-watched", namespace)

    # JSON patch replace of a member the object does not have yet, then a rollout restart as clients send it.
    deployment = apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-deploy"),
        spec=client.V1DeploymentSpec(
            replicas=0,
            selector=client.V1LabelSelector(match_labels={"app": "py-deploy"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py-deploy"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="busybox")])))))
    print("createdstatus=" + json.dumps(deployment.status.to_dict() if deployment.status is not None else None, sort_keys=True))
    patched = apps.patch_namespaced_deployment("py-deploy", namespace,
                                               [{"op": "replace", "path": "/spec/template/metadata/annotations", "value": {"replaced": "yes"}}])
    print("jsonpatch=" + json.dumps(patched.spec.template.metadata.annotations, sort_keys=True))
    restarted = apps.patch_namespaced_deployment("py-deploy", namespace, {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}})
    print("restart=" + json.dumps(restarted.spec.template.metadata.annotations, sort_keys=True))
    apps.delete_namespaced_deployment("py-deploy", namespace)

    # An update from a stale resourceVersion: 409 with upstream's message.
    created = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-conflict"), data={"v": "1"}))
    core.patch_namespaced_config_map("py-conflict", namespace, {"data": {"v": "2"}})
    created.data = {"v": "stale"}
    try:
        core.replace_namespaced_config_map("py-conflict", namespace, created)
        fail("a stale update was accepted")
    except ApiException as e:
        print("conflictstatus=%d" % e.status)
        print("conflictmessage=" + json.dumps(json.loads(e.body)["message"]))
    finally:
        core.delete_namespaced_config_map("py-conflict", namespace)


def main():
    kubeconfig, check, namespace = sys.argv[1:4]
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    if check == "exec":
        check_exec(core, namespace, sys.argv[4])
    elif check == "portforward":
        check_portforward(core, namespace, sys.argv[4], sys.argv[5])
    elif check == "api":
        check_api(core, client.AppsV1Api(), namespace)
    else:
        fail("unknown check " + check)


if __name__ == "__main__":
    main()
