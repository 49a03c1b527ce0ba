// The backend's user-assigned managed identity: what it proves itself with to Web PubSub (REST
// API), Table Storage and the container registry. Roles are granted where each resource is made.

@description('Name of the identity.')
param name string

@description('Azure region.')
param location string

param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
