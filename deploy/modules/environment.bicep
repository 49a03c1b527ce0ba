// The Container Apps environment. Its logs go to Log Analytics through Azure Monitor diagnostic
// settings, so no workspace key is read or stored. Its own module so its default domain (hence the
// backend's URL) is known before Web PubSub and the app are made: no cycle.

@description('Name of the environment.')
param name string

@description('Azure region.')
param location string

@description('Resource id of the Log Analytics workspace.')
param workspaceId string

param tags object = {}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
  }
}

resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: environment
  name: 'logs'
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'ContainerAppConsoleLogs', enabled: true }
      { category: 'ContainerAppSystemLogs', enabled: true }
    ]
  }
}

output id string = environment.id
output defaultDomain string = environment.properties.defaultDomain
