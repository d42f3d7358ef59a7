// Every module that speaks to the API server speaks JSON documents; the one JSONValue comes with the client.
@_exported import JSONValues
