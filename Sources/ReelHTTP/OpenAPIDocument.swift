/// The API's OpenAPI 3.1 document, served at `/v1/openapi.json`. `reel openapi` prints it;
/// Docs/api/openapi.json is that output (a test checks they are the same).
enum OpenAPIDocument {
    static let json = #"""
        {
          "components": {
            "schemas": {
              "ChunkMap": {
                "additionalProperties": false,
                "properties": {
                  "cells": {
                    "items": {
                      "additionalProperties": false,
                      "properties": {
                        "attempt": {
                          "minimum": 0,
                          "type": "integer"
                        },
                        "chunk": {
                          "minimum": 0,
                          "type": "integer"
                        },
                        "state": {
                          "enum": [
                            "pending",
                            "leased",
                            "done",
                            "failed",
                            "rerun"
                          ],
                          "type": "string"
                        },
                        "task": {
                          "format": "int64",
                          "type": "integer"
                        },
                        "tile": {
                          "minimum": 0,
                          "type": "integer"
                        },
                        "window": {
                          "minimum": 0,
                          "type": "integer"
                        },
                        "worker": {
                          "type": [
                            "string",
                            "null"
                          ]
                        }
                      },
                      "required": [
                        "task",
                        "chunk",
                        "window",
                        "tile",
                        "state",
                        "attempt"
                      ],
                      "type": "object"
                    },
                    "type": "array"
                  },
                  "tileColumns": {
                    "minimum": 1,
                    "type": "integer"
                  },
                  "tileRows": {
                    "minimum": 1,
                    "type": "integer"
                  },
                  "windows": {
                    "minimum": 0,
                    "type": "integer"
                  }
                },
                "required": [
                  "windows",
                  "tileRows",
                  "tileColumns",
                  "cells"
                ],
                "type": "object"
              },
              "Created": {
                "additionalProperties": false,
                "properties": {
                  "id": {
                    "format": "int64",
                    "type": "integer"
                  }
                },
                "required": [
                  "id"
                ],
                "type": "object"
              },
              "Error": {
                "additionalProperties": false,
                "properties": {
                  "error": {
                    "description": "A stable code: unauthorized, forbidden, not-found, bad-request, invalid-spec, conflict, busy, too-large, disk-full, internal.",
                    "type": "string"
                  },
                  "message": {
                    "type": "string"
                  },
                  "problems": {
                    "description": "For invalid-spec: every problem, each naming its field.",
                    "items": {
                      "$ref": "#/components/schemas/FieldProblem"
                    },
                    "type": "array"
                  }
                },
                "required": [
                  "error",
                  "message"
                ],
                "type": "object"
              },
              "Event": {
                "additionalProperties": false,
                "properties": {
                  "at": {
                    "type": "number"
                  },
                  "detail": {
                    "type": "string"
                  },
                  "id": {
                    "format": "int64",
                    "type": "integer"
                  },
                  "job": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "kind": {
                    "description": "job-submitted, task-leased, task-committed, task-requeued, job-done, webhook-delivered, ...",
                    "type": "string"
                  },
                  "task": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  }
                },
                "required": [
                  "id",
                  "at",
                  "kind",
                  "detail"
                ],
                "type": "object"
              },
              "EventPage": {
                "additionalProperties": false,
                "properties": {
                  "events": {
                    "items": {
                      "$ref": "#/components/schemas/Event"
                    },
                    "type": "array"
                  },
                  "next": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  }
                },
                "required": [
                  "events"
                ],
                "type": "object"
              },
              "FieldProblem": {
                "additionalProperties": false,
                "properties": {
                  "field": {
                    "type": "string"
                  },
                  "problem": {
                    "type": "string"
                  }
                },
                "required": [
                  "field",
                  "problem"
                ],
                "type": "object"
              },
              "Health": {
                "additionalProperties": false,
                "properties": {
                  "status": {
                    "enum": [
                      "ok",
                      "starting",
                      "stuck"
                    ],
                    "type": "string"
                  }
                },
                "required": [
                  "status"
                ],
                "type": "object"
              },
              "Job": {
                "additionalProperties": false,
                "properties": {
                  "consistency": {
                    "description": "The consistency report (seam and flicker scores) once encoded; null before."
                  },
                  "createdAt": {
                    "description": "Unix time, seconds.",
                    "type": "number"
                  },
                  "etaSeconds": {
                    "description": "At the pace so far; null when unknown or not running.",
                    "type": [
                      "number",
                      "null"
                    ]
                  },
                  "frameChecksum": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "framesEncoded": {
                    "minimum": 0,
                    "type": "integer"
                  },
                  "framesTotal": {
                    "minimum": 0,
                    "type": "integer"
                  },
                  "id": {
                    "format": "int64",
                    "type": "integer"
                  },
                  "latentChecksum": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "name": {
                    "type": "string"
                  },
                  "outputURL": {
                    "description": "Where the MP4 is served once done.",
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "owner": {
                    "description": "The token or CURVE key name that submitted it (`local` on loopback ZeroMQ).",
                    "type": "string"
                  },
                  "progress": {
                    "description": "Tasks done, the encode counted as one more task.",
                    "maximum": 1,
                    "minimum": 0,
                    "type": "number"
                  },
                  "reason": {
                    "description": "Why it failed, is paused or waits.",
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "stages": {
                    "items": {
                      "$ref": "#/components/schemas/Stage"
                    },
                    "type": "array"
                  },
                  "state": {
                    "enum": [
                      "running",
                      "paused",
                      "encoding",
                      "done",
                      "failed",
                      "cancelled"
                    ],
                    "type": "string"
                  },
                  "updatedAt": {
                    "type": "number"
                  }
                },
                "required": [
                  "id",
                  "name",
                  "owner",
                  "state",
                  "createdAt",
                  "updatedAt",
                  "progress",
                  "stages",
                  "framesEncoded",
                  "framesTotal"
                ],
                "type": "object"
              },
              "JobList": {
                "additionalProperties": false,
                "properties": {
                  "jobs": {
                    "items": {
                      "$ref": "#/components/schemas/Job"
                    },
                    "type": "array"
                  },
                  "next": {
                    "description": "The `after` of the next page; absent or null on the last.",
                    "type": [
                      "integer",
                      "null"
                    ]
                  }
                },
                "required": [
                  "jobs"
                ],
                "type": "object"
              },
              "Session": {
                "additionalProperties": false,
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "role": {
                    "enum": [
                      "viewer",
                      "submitter",
                      "admin"
                    ],
                    "type": "string"
                  }
                },
                "required": [
                  "name",
                  "role"
                ],
                "type": "object"
              },
              "Spec": {
                "additionalProperties": true,
                "description": "A job spec's keys, as in a spec file (Docs/spec.md): name, prompt, seconds, fps, width, height, seed, output, ...",
                "type": "object"
              },
              "Stage": {
                "additionalProperties": false,
                "properties": {
                  "done": {
                    "minimum": 0,
                    "type": "integer"
                  },
                  "name": {
                    "enum": [
                      "keyframes",
                      "chunks",
                      "seams",
                      "decode",
                      "encode"
                    ],
                    "type": "string"
                  },
                  "total": {
                    "minimum": 0,
                    "type": "integer"
                  }
                },
                "required": [
                  "name",
                  "done",
                  "total"
                ],
                "type": "object"
              },
              "Worker": {
                "additionalProperties": false,
                "properties": {
                  "backends": {
                    "items": {
                      "type": "string"
                    },
                    "type": "array"
                  },
                  "device": {
                    "type": "string"
                  },
                  "failures": {
                    "minimum": 0,
                    "type": "integer"
                  },
                  "id": {
                    "type": "string"
                  },
                  "joinedAt": {
                    "type": "number"
                  },
                  "lastSeen": {
                    "type": "number"
                  },
                  "leases": {
                    "description": "Task ids it holds leases of.",
                    "items": {
                      "format": "int64",
                      "type": "integer"
                    },
                    "type": "array"
                  },
                  "memoryMegabytes": {
                    "minimum": 0,
                    "type": "integer"
                  },
                  "models": {
                    "items": {
                      "type": "string"
                    },
                    "type": "array"
                  },
                  "state": {
                    "enum": [
                      "busy",
                      "idle"
                    ],
                    "type": "string"
                  },
                  "tasksDone": {
                    "minimum": 0,
                    "type": "integer"
                  },
                  "tasksPerMinute": {
                    "minimum": 0,
                    "type": "number"
                  }
                },
                "required": [
                  "id",
                  "state",
                  "leases",
                  "tasksDone",
                  "failures",
                  "tasksPerMinute",
                  "backends",
                  "models",
                  "device",
                  "memoryMegabytes",
                  "joinedAt",
                  "lastSeen"
                ],
                "type": "object"
              },
              "WorkerList": {
                "additionalProperties": false,
                "properties": {
                  "workers": {
                    "items": {
                      "$ref": "#/components/schemas/Worker"
                    },
                    "type": "array"
                  }
                },
                "required": [
                  "workers"
                ],
                "type": "object"
              }
            },
            "securitySchemes": {
              "bearer": {
                "scheme": "bearer",
                "type": "http"
              },
              "session": {
                "in": "cookie",
                "name": "reel_session",
                "type": "apiKey"
              }
            }
          },
          "info": {
            "description": "Watch and drive a Reel render farm. Every /v1 request needs a bearer token (`reel token create --role viewer|submitter|admin`), or the dashboard's session cookie; a POST authorized by the cookie must also carry X-Reel-Request: 1. A submitter sees and controls only its own jobs; a viewer reads everything; an admin controls everything.",
            "title": "Reel operator API",
            "version": "1"
          },
          "openapi": "3.1.0",
          "paths": {
            "/": {
              "get": {
                "operationId": "dashboard",
                "responses": {
                  "200": {
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "description": "The page."
                  }
                },
                "security": [],
                "summary": "The dashboard (HTML; signs in with a token, then uses the session cookie).",
                "tags": [
                  "dashboard"
                ]
              }
            },
            "/healthz": {
              "get": {
                "operationId": "health",
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Health"
                        }
                      }
                    },
                    "description": "It turns."
                  },
                  "503": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Health"
                        }
                      }
                    },
                    "description": "It has not turned yet (starting), or not for 30 s (stuck)."
                  }
                },
                "security": [],
                "summary": "Whether the coordinator's loop turns.",
                "tags": [
                  "operations"
                ]
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "responses": {
                  "200": {
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "description": "Metrics."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "Metrics are off."
                  }
                },
                "security": [],
                "summary": "Prometheus metrics (text exposition).",
                "tags": [
                  "operations"
                ]
              }
            },
            "/v1/events": {
              "get": {
                "operationId": "liveEvents",
                "responses": {
                  "200": {
                    "content": {
                      "text/event-stream": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "description": "An endless event stream."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "503": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "Too many live feeds are open."
                  }
                },
                "summary": "Server-sent events: `job` (a job's view when it changes), `event` (each stored event, with its id; send Last-Event-ID to resume) and `workers` (every 2 s, viewers and admins).",
                "tags": [
                  "live"
                ]
              }
            },
            "/v1/jobs": {
              "get": {
                "operationId": "listJobs",
                "parameters": [
                  {
                    "description": "Only items with ids above this (the `next` of the previous page).",
                    "in": "query",
                    "name": "after",
                    "required": false,
                    "schema": {
                      "format": "int64",
                      "minimum": 0,
                      "type": "integer"
                    }
                  },
                  {
                    "description": "Items per page (default 100).",
                    "in": "query",
                    "name": "limit",
                    "required": false,
                    "schema": {
                      "maximum": 500,
                      "minimum": 1,
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/JobList"
                        }
                      }
                    },
                    "description": "A page."
                  },
                  "400": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "A bad query parameter."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  }
                },
                "summary": "The jobs the token may see, oldest first, a page at a time.",
                "tags": [
                  "jobs"
                ]
              },
              "post": {
                "operationId": "submitJob",
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Spec"
                      }
                    },
                    "application/toml": {
                      "schema": {
                        "type": "string"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "201": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Created"
                        }
                      }
                    },
                    "description": "Submitted.",
                    "headers": {
                      "Location": {
                        "description": "The job's URL.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The spec has problems: each one is listed, naming its field."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "403": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "A viewer's token."
                  },
                  "413": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The body is over 256 KiB."
                  },
                  "503": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The coordinator has too many requests waiting, or its disk is full."
                  }
                },
                "summary": "Submits a job.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}": {
              "get": {
                "operationId": "getJob",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Job"
                        }
                      }
                    },
                    "description": "The job."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job, or one the token may not see."
                  }
                },
                "summary": "A job: state, progress per stage, ETA, reason, consistency report.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}/cancel": {
              "post": {
                "operationId": "cancelJob",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Job"
                        }
                      }
                    },
                    "description": "The job after the change."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "403": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "A viewer, or a submitter's token on a job it does not own... (another's job is 404)."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job, or one the token may not see."
                  },
                  "409": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The job is not in a state this applies to."
                  },
                  "503": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The coordinator has too many requests waiting."
                  }
                },
                "summary": "Cancels a job (resumable).",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}/chunks": {
              "get": {
                "operationId": "chunkMap",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ChunkMap"
                        }
                      }
                    },
                    "description": "The map."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job, or one the token may not see."
                  }
                },
                "summary": "The chunk map: each chunk task on the time-window x tile grid, with its state.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}/chunks/{chunk}/preview.png": {
              "get": {
                "operationId": "chunkPreview",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  },
                  {
                    "description": "The chunk's index in the plan.",
                    "in": "path",
                    "name": "chunk",
                    "required": true,
                    "schema": {
                      "minimum": 0,
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "image/png": {
                        "schema": {
                          "format": "binary",
                          "type": "string"
                        }
                      }
                    },
                    "description": "PNG."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job or chunk, or the chunk is not committed yet."
                  }
                },
                "summary": "A committed chunk's middle frame, about 160 px wide.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}/events": {
              "get": {
                "operationId": "jobEvents",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  },
                  {
                    "description": "Only items with ids above this (the `next` of the previous page).",
                    "in": "query",
                    "name": "after",
                    "required": false,
                    "schema": {
                      "format": "int64",
                      "minimum": 0,
                      "type": "integer"
                    }
                  },
                  {
                    "description": "Items per page (default 100).",
                    "in": "query",
                    "name": "limit",
                    "required": false,
                    "schema": {
                      "maximum": 1000,
                      "minimum": 1,
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventPage"
                        }
                      }
                    },
                    "description": "A page."
                  },
                  "400": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "A bad query parameter."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job, or one the token may not see."
                  }
                },
                "summary": "A job's event log, oldest first, a page at a time.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}/output": {
              "get": {
                "operationId": "jobOutput",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  },
                  {
                    "description": "bytes=FIRST-LAST, bytes=FIRST- or bytes=-COUNT.",
                    "in": "header",
                    "name": "Range",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "video/mp4": {
                        "schema": {
                          "format": "binary",
                          "type": "string"
                        }
                      }
                    },
                    "description": "The whole video."
                  },
                  "206": {
                    "content": {
                      "video/mp4": {
                        "schema": {
                          "format": "binary",
                          "type": "string"
                        }
                      }
                    },
                    "description": "The bytes asked for."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job, one the token may not see, or its file is gone."
                  },
                  "409": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The job is not done."
                  },
                  "416": {
                    "description": "The range lies outside the file."
                  }
                },
                "summary": "The finished MP4; honours a single Range.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}/pause": {
              "post": {
                "operationId": "pauseJob",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Job"
                        }
                      }
                    },
                    "description": "The job after the change."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "403": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "A viewer, or a submitter's token on a job it does not own... (another's job is 404)."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job, or one the token may not see."
                  },
                  "409": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The job is not in a state this applies to."
                  },
                  "503": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The coordinator has too many requests waiting."
                  }
                },
                "summary": "Pauses a job: no new tasks go out.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/jobs/{id}/resume": {
              "post": {
                "operationId": "resumeJob",
                "parameters": [
                  {
                    "description": "The job's id.",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "format": "int64",
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Job"
                        }
                      }
                    },
                    "description": "The job after the change."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "403": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "A viewer, or a submitter's token on a job it does not own... (another's job is 404)."
                  },
                  "404": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No such job, or one the token may not see."
                  },
                  "409": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The job is not in a state this applies to."
                  },
                  "503": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "The coordinator has too many requests waiting."
                  }
                },
                "summary": "Resumes a paused, failed or cancelled job, keeping its finished work.",
                "tags": [
                  "jobs"
                ]
              }
            },
            "/v1/openapi.json": {
              "get": {
                "operationId": "openapi",
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    },
                    "description": "OpenAPI 3.1."
                  }
                },
                "security": [],
                "summary": "This document.",
                "tags": [
                  "operations"
                ]
              }
            },
            "/v1/session": {
              "delete": {
                "operationId": "closeSession",
                "responses": {
                  "204": {
                    "description": "Cleared."
                  }
                },
                "security": [],
                "summary": "Clears the session cookie.",
                "tags": [
                  "session"
                ]
              },
              "get": {
                "operationId": "whoAmI",
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Session"
                        }
                      }
                    },
                    "description": "The token's name and role."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  }
                },
                "summary": "Who the token or session cookie is.",
                "tags": [
                  "session"
                ]
              },
              "post": {
                "operationId": "openSession",
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Session"
                        }
                      }
                    },
                    "description": "Who the token is; the cookie is set."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  }
                },
                "security": [
                  {
                    "bearer": []
                  }
                ],
                "summary": "Sets the dashboard's session cookie from a bearer token.",
                "tags": [
                  "session"
                ]
              }
            },
            "/v1/workers": {
              "get": {
                "operationId": "listWorkers",
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/WorkerList"
                        }
                      }
                    },
                    "description": "The workers."
                  },
                  "401": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "No token, or a token that is unknown or revoked."
                  },
                  "403": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    },
                    "description": "A submitter's token."
                  }
                },
                "summary": "The live workers (viewers and admins).",
                "tags": [
                  "workers"
                ]
              }
            }
          },
          "security": [
            {
              "bearer": []
            },
            {
              "session": []
            }
          ],
          "servers": [
            {
              "url": "/"
            }
          ]
        }
        """#
}
