"""Sends a few rows of a CSV file to a model server's Open Inference Protocol v2 endpoint and prints
the answers (the demo's last step):

    python hack/predict.py http://CLUSTER-IP:8080 MODEL-NAME data.csv [ROWS]

It asks the server which inputs the model takes (GET /v2/models/NAME), sends one tensor per input
column, and prints each row's prediction next to the label the file has."""

import csv
import json
import sys
import urllib.request

DATATYPE_OF = {"FP64": float, "FP32": float, "INT64": int, "BOOL": lambda v: v in ("1", "true", "True")}


def main() -> None:
    base, model, path = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    with urllib.request.urlopen(f"{base}/v2/models/{model}", timeout=10) as response:
        metadata = json.load(response)
    with open(path, newline="") as f:
        rows = [row for _, row in zip(range(count), csv.DictReader(f), strict=False)]
    inputs = [{"name": i["name"], "shape": [len(rows)], "datatype": i["datatype"],
               "data": [DATATYPE_OF.get(i["datatype"], str)(row[i["name"]]) for row in rows]}
              for i in metadata["inputs"]]
    request = urllib.request.Request(f"{base}/v2/models/{model}/infer", json.dumps({"inputs": inputs}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    predictions = next(o for o in answer["outputs"] if o["name"] == "predict")["data"]
    print(f"POST {base}/v2/models/{model}/infer ({len(inputs)} input tensors, {len(rows)} rows): "
          f"answered by version {answer['model_version']}")
    for row, predicted in zip(rows, predictions, strict=True):
        print(f"  row: mean_radius={row.get('mean_radius')}  predicted={predicted}  label={row.get('target')}")


if __name__ == "__main__":
    main()
